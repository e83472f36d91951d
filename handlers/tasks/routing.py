"""派单 as a domain action: where a new task goes first, and an admin's dispatch by hand.

Routing (docs/tasks.md) starts at the resident's station and searches the station, then the
institute, then the center for teams whose categories match; nearest level first, then the
team with the fewest open tasks. A request nobody serves (or 其他) goes first to the
villager's own station — its admin, else its team — and only then to the nearest admin up
the tree who exists; nobody at all leaves it for `xinfeng tasks stuck`. An emergency is
offered at once to the nearest teams, and every admin from the station up is told.
An admin may name the team instead, inside their subtree. How a task climbs when nobody
takes it is `handlers.tasks.escalation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from handlers.core.act import Act, Refused, domain_action
from handlers.core.rights import admin_over
from handlers.core.texts import ref
from handlers.tasks.cards import post_offer, withdraw_cards
from handlers.tasks.outcomes import (
    Dispatched,
    NotOpen,
    Placed,
    TeamAmbiguous,
    TeamNotFound,
)
from handlers.tasks.ownership import Chain, Network, Placement, chain_of, level_of
from handlers.tasks.texts import OTHER, emergency_admin_note, held_note, task_offer_text
from storage.db import load
from storage.models import OrgUnit, Person, Task, Team
from storage.people.network import (
    get_unit,
    teams_by_ids,
    teams_for_category,
    teams_named,
    units_by_ids,
)
from storage.tasks.queries import refresh_task
from storage.tasks.transitions import offered_team_ids, place_task

__all__ = ["DEFAULT_WINDOWS", "Windows", "level_of", "offer_to_team", "routing_chain", "teams_for_level"]

VILLAGE = ("point", "station")


@dataclass(frozen=True)
class Windows:
    """How long a task waits at each level before it escalates."""

    station: timedelta = timedelta(hours=2)
    institute: timedelta = timedelta(hours=4)
    center: timedelta = timedelta(hours=24)  # then reported daily to the center admins
    urgent: timedelta = timedelta(minutes=30)
    emergency: timedelta = timedelta(minutes=10)  # at every level, the center too, until someone takes it

    def at(self, level: str, urgent: bool, emergency: bool = False) -> timedelta:
        """The window at a level."""
        if emergency:
            return self.emergency
        if level == "center":
            return self.center
        if urgent:
            return self.urgent
        return self.institute if level == "institute" else self.station

    def of(self, task: Task, level: str) -> timedelta:
        """A task's window at a level."""
        return self.at(level, task.urgent, bool(task.emergency))


DEFAULT_WINDOWS = Windows()

Dispatch = Dispatched | Placed | NotOpen | Refused | TeamNotFound | TeamAmbiguous


async def routing_chain(act: Act, task: Task) -> list[OrgUnit]:
    """The units a task may be offered at, from its station up to the center."""
    return (await chain_of(act, task)).units


async def teams_for_level(act: Act, task: Task, unit: OrgUnit, *, first: bool,
                          network: Network | None = None) -> list[Team]:
    """The teams at `unit` that should be offered the task (`first`: its first placement, not a climb).

    Matching teams; for 其他, only a station's own 其他 teams at first (the county's catch-all
    teams wait until the station had its turn); for an emergency, any team when none match.
    """
    if task.category == OTHER and first and unit.level not in VILLAGE:
        return []
    teams = await _teams_at(act, unit, task.category, network)
    if not teams and task.emergency:
        teams = await _teams_at(act, unit, "", network)
    return teams


async def _teams_at(act: Act, unit: OrgUnit, category: str, network: Network | None) -> list[Team]:
    """The teams at `unit` serving `category` ("" for any), fewest open tasks first (from a tick's `network`)."""
    if network is not None:
        known = network.teams_at(unit.id, category)
        if known is not None:
            return known
    return [t for t, _ in await teams_for_category(act.session, unit.id, category)]


async def _choose(act: Act, task: Task, chain: Chain) -> Placement:
    """Where a new task goes first."""
    if not chain.units:
        return Placement(None, "station")
    home = [u for u in chain.units if u.level in VILLAGE] or chain.units[:1]
    if task.emergency:
        teams: list[Team] = []
        for unit in home:  # the village's own teams, whatever they do: the nearest hands
            teams += await _teams_at(act, unit, "", None)
        # …and the nearest teams that serve the need (a health team for a fall), else the nearest of any kind.
        for category in ([task.category] if task.category != OTHER else []) + [""]:
            found: list[Team] = []
            for unit in chain.units:
                found = await _teams_at(act, unit, category, None)
                if found:
                    break
            teams += [t for t in found if t not in teams]
            if teams:
                break
        nearest = chain.nearest_admins()
        return Placement(home[0], "station", teams, nearest[1] if nearest else [])
    for unit in chain.units:
        teams = await teams_for_level(act, task, unit, first=True)
        if teams:
            return Placement(unit, level_of(unit), teams[:1])
    # Nobody serves it: the village first (its admin triages; else its own team), then up the tree.
    nearest = chain.nearest_admins()
    if nearest is not None and nearest[0].level in VILLAGE:
        return Placement(nearest[0], level_of(nearest[0]), [], nearest[1])
    for unit in home:
        teams = await _teams_at(act, unit, "", None)
        if teams:
            return Placement(unit, "station", teams[:1])
    if nearest is not None:
        return Placement(nearest[0], level_of(nearest[0]), [], nearest[1])
    return Placement(home[0], "station")


async def place_new(act: Act, task: Task, *, windows: Windows = DEFAULT_WINDOWS) -> Placement | NotOpen:
    """Put a new task where it goes first and tell whoever has it now; the audit row is the caller's."""
    chain = await chain_of(act, task)
    placement = await _choose(act, task, chain)
    if not await place_task(session=act.session, task_id=task.id, level=placement.level, now=act.now,
                            window=windows.of(task, placement.level), team_ids=[t.id for t in placement.teams],
                            unit_id=placement.unit.id if placement.unit else None,
                            owner_id=placement.admins[0].id if placement.admins else None,
                            stuck=placement.nobody):
        return NotOpen(task)
    await refresh_task(act.session, task)
    station = await get_unit(act.session, task.org_unit_id)
    for team in placement.teams:
        await post_offer(act, task, team, task_offer_text(task, station, escalated=False))
    if task.emergency:
        resident = await load(act.session, Person, task.resident_id)
        for _, admins in chain.told_from(0):
            for admin in admins:
                await act.notify.person(admin, emergency_admin_note(task, station, resident))
    elif placement.admins and not placement.teams:
        nearby = await _teams_at(act, placement.unit, "", None) if placement.unit else []
        for admin in placement.admins:
            await act.notify.person(admin, held_note(task, station, nearby))
    return placement


@domain_action("dispatch")
async def offer_to_team(act: Act, task: Task, team_query: str | None = None,
                        *, windows: Windows = DEFAULT_WINDOWS) -> Dispatch:
    """派单: put a new task where it goes first, or (an admin) offer it to the team named by `team_query`."""
    if team_query is not None:
        return await _dispatch_by_hand(act, task, team_query, windows)
    placed = await place_new(act, task, windows=windows)
    if isinstance(placed, NotOpen):
        act.audit("dispatch", "task", task.id, outcome="not_open", auto=True)
        return placed
    detail = {"level": placed.level, "auto": True, "emergency": task.emergency}
    if placed.teams:
        act.audit("dispatch", "task", task.id, team_id=placed.teams[0].id,
                  teams=[t.id for t in placed.teams], **detail)
    elif placed.admins:
        act.audit("dispatch", "task", task.id, outcome="no_team", owner_id=placed.admins[0].id, **detail)
    else:
        act.audit("dispatch", "task", task.id, outcome="nobody", **detail)
    return Placed(task, placed)


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
    before = await offered_team_ids(session=act.session, task_id=task.id)
    if team.id in before and task.status in ("submitted", "dispatched"):
        return act.refuse("dispatch", f"任务 {ref(task.id)} 已经派给「{team.name}」了，正在等队员接单，不用再派。",
                          "task", task.id, team_id=team.id)
    level = level_of(unit)
    if not await place_task(session=act.session, task_id=task.id, team_ids=[team.id], level=level, now=act.now,
                            window=windows.of(task, level), unit_id=unit.id, by_person_id=act.actor_id,
                            replace=True):
        return NotOpen(task)
    await refresh_task(act.session, task)
    await post_offer(act, task, team, task_offer_text(task, station, escalated=False))
    withdrawn = [t for t in await teams_by_ids(act.session, before) if t.id != team.id]
    if withdrawn:
        await withdraw_cards(act, task, withdrawn, f"任务 {ref(task.id)} 已改派给其他队伍，不用再接了，谢谢。",
                             kept=team)
    act.audit("dispatch", "task", task.id, team_id=team.id, level=level, withdrawn=[t.id for t in withdrawn] or None)
    return Dispatched(task, team, level)
