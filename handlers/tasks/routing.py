"""派单 and escalation as domain actions: where a task is offered, and how it climbs.

Routing (PRODUCT.md §3) starts at the resident's station and searches the station, then the
institute, then the center for teams whose categories match; nearest level first, then the
team with the fewest open tasks. An admin may name the team instead, inside their subtree.
A task not accepted within its level's window moves up one level and is offered to that
level's teams too; at the center it is reported to the center admins once a day until
someone takes it. Nothing is silently stuck.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from handlers.core.act import Act, Refused, domain_action
from handlers.core.rights import admin_over
from handlers.core.texts import ref
from handlers.tasks.outcomes import (
    Dispatched,
    Escalated,
    NoTeam,
    NotOpen,
    Reported,
    TeamAmbiguous,
    TeamNotFound,
)
from handlers.tasks.texts import accept_button, no_team_note, task_offer_text
from storage.models import OrgUnit, Task, Team
from storage.people.network import (
    ancestors,
    get_unit,
    teams_for_category,
    teams_named,
    units_by_ids,
)
from storage.tasks.queries import refresh_task
from storage.tasks.transitions import offer_task, offered_team_ids

ROUTING_LEVELS = ("point", "station", "institute", "center")


@dataclass(frozen=True)
class Windows:
    """How long a task waits at each level before it escalates."""

    station: timedelta = timedelta(hours=2)
    institute: timedelta = timedelta(hours=4)
    center: timedelta = timedelta(hours=24)  # then reported daily to the center admins
    urgent: timedelta = timedelta(minutes=30)

    def at(self, level: str, urgent: bool) -> timedelta:
        """The window at a level."""
        if level == "center":
            return self.center
        if urgent:
            return self.urgent
        return self.institute if level == "institute" else self.station


DEFAULT_WINDOWS = Windows()

Dispatch = Dispatched | NoTeam | NotOpen | Refused | TeamNotFound | TeamAmbiguous


def level_of(unit: OrgUnit) -> str:
    """The routing level a unit answers at: a point's teams count as its station's."""
    return "station" if unit.level == "point" else unit.level


async def routing_chain(act: Act, task: Task) -> list[OrgUnit]:
    """The units a task may be offered at, from its station up to the center."""
    station = await get_unit(act.session, task.org_unit_id)
    if station is None:
        return []
    return [u for u in await ancestors(act.session, station) if u.level in ROUTING_LEVELS]


async def _offer(act: Act, task: Task, team: Team, level: str, *, windows: Windows,
                 by_hand: bool) -> Dispatched | NotOpen:
    """Offer the task to one team and post it to the team; the audit row is the caller's."""
    if not await offer_task(session=act.session, task_id=task.id, team_ids=[team.id], level=level, now=act.now,
                            window=windows.at(level, task.urgent), by_person_id=act.actor_id if by_hand else None,
                            replace=by_hand):
        return NotOpen(task)
    await refresh_task(act.session, task)
    station = await get_unit(act.session, task.org_unit_id)
    await act.notify.team(team, task_offer_text(task, station, escalated=False), accept_button(task.id),
                          ref=f"task:{task.id}")
    return Dispatched(task, team, level)


@domain_action("dispatch")
async def offer_to_team(act: Act, task: Task, team_query: str | None = None,
                        *, windows: Windows = DEFAULT_WINDOWS) -> Dispatch:
    """派单: offer a task to the nearest matching team, or (an admin) to the team named by `team_query`."""
    if team_query is not None:
        return await _dispatch_by_hand(act, task, team_query, windows)
    chain = await routing_chain(act, task)
    for unit in chain:
        teams = await teams_for_category(act.session, unit.id, task.category)
        if not teams:
            continue
        outcome = await _offer(act, task, teams[0][0], level_of(unit), windows=windows, by_hand=False)
        if isinstance(outcome, Dispatched):
            act.audit("dispatch", "task", task.id, team_id=outcome.team.id, level=outcome.level, auto=True)
        else:
            act.audit("dispatch", "task", task.id, outcome="not_open", auto=True)
        return outcome
    for unit in chain[:1]:
        await act.notify.admins(unit, no_team_note(task))
    act.audit("dispatch", "task", task.id, outcome="no_team")
    return NoTeam(task)


async def _dispatch_by_hand(act: Act, task: Task, team_query: str, windows: Windows) -> Dispatch:
    """An admin's 派单 (or re-dispatch): the named team must lie inside their subtree."""
    station = await get_unit(act.session, task.org_unit_id)
    scope = await admin_over(act, station) if station is not None else None
    if station is None or scope is None:
        where = station.name if station is not None else "本站"
        return act.refuse("dispatch", f"只有{where}及其上级的管理员可以给任务 {ref(task.id)} 派单。", "task", task.id)
    candidates = await teams_named(act.session, team_query)
    units = {u.id: u for u in await units_by_ids(act.session, sorted({t.org_unit_id for t in candidates}))}
    inside = [(t, units[t.org_unit_id]) for t in candidates
              if t.org_unit_id in units and units[t.org_unit_id].path.startswith(scope.path)]
    if not inside:
        if candidates:
            return act.refuse("dispatch", f"「{team_query}」不在您管辖的{scope.name}范围内，不能派单给它。", "task", task.id)
        return TeamNotFound(team_query)
    if len(inside) > 1:
        return TeamAmbiguous(team_query, [t.name for t, _ in inside[:5]])
    team, unit = inside[0]
    outcome = await _offer(act, task, team, level_of(unit), windows=windows, by_hand=True)
    if isinstance(outcome, Dispatched):
        act.audit("dispatch", "task", task.id, team_id=team.id, level=outcome.level)
    return outcome


@domain_action("escalate")
async def escalate(act: Act, task: Task, *, windows: Windows = DEFAULT_WINDOWS) -> Escalated | Reported | NotOpen:
    """Move a task whose window ran out one level up, offer it there and tell that level's admins.

    At the top it becomes the daily report instead. The move is a compare-and-set on the
    task's `escalate_at`, so a second tick or worker finds it moved (NotOpen) and does nothing.
    """
    chain = await routing_chain(act, task)
    levels = [level_of(u) for u in chain]
    current = task.dispatch_level or "station"
    idx = levels.index(current) if current in levels else 0
    # Climb until a level has matching teams; the center is the top.
    for unit, level in list(zip(chain, levels))[idx + 1:]:
        teams = [t for t, _ in await teams_for_category(act.session, unit.id, task.category)]
        if not teams and level != "center":
            continue
        already = set(await offered_team_ids(session=act.session, task_id=task.id))
        if not await offer_task(session=act.session, task_id=task.id, team_ids=[t.id for t in teams], level=level,
                                now=act.now, window=windows.at(level, task.urgent), due_at=task.escalate_at):
            return NotOpen(task)
        new_teams = [t for t in teams if t.id not in already]
        station = await get_unit(act.session, task.org_unit_id)
        for team in new_teams:
            await act.notify.team(team, task_offer_text(task, station, escalated=True), accept_button(task.id),
                                  ref=f"task:{task.id}")
        note = f"任务 {ref(task.id)}【{task.category}】在下级超时未被接单，已升级到{unit.name}。"
        if not new_teams:
            note += f" 本级没有对口队伍，请人工派单：派单 {ref(task.id)} <队伍名>"
        await act.notify.admins(unit, note)
        act.audit("escalate", "task", task.id, level=level, teams=[t.id for t in new_teams])
        return Escalated(task, level, new_teams)
    return await report_unaccepted(act, task, chain[-1] if chain else None, windows=windows)


@domain_action("escalate_report")
async def report_unaccepted(act: Act, task: Task, top: OrgUnit | None,
                            *, windows: Windows = DEFAULT_WINDOWS) -> Reported | NotOpen:
    """Remind the center admins of a task still unaccepted at the top, and re-arm its daily window."""
    if not await offer_task(session=act.session, task_id=task.id, team_ids=[], level=task.dispatch_level or "station",
                            now=act.now, window=windows.center, due_at=task.escalate_at):
        return NotOpen(task)
    if top is not None:
        await act.notify.admins(top, f"提醒：任务 {ref(task.id)}【{task.category}】仍无人接单，请尽快人工派单。")
    act.audit("escalate_report", "task", task.id)
    return Reported(task)
