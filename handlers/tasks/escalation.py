"""Escalation as domain actions: a task nobody took within its window climbs to the next level that has someone.

docs/tasks.md: a task not accepted within its level's window (2 h at the station, 4 h at the
institute, 30 min each when urgent, 10 min when an emergency) moves one level up: it is
offered to that level's teams too, that level's admins are told, and the villager hears that
it is not forgotten and who has it now. A level with neither teams nor admins is skipped. A
task with no team climbs the same way (an admin held it; the next admin up gets it). At the
top it is reported to the highest admins that exist — daily, or every 10 minutes for an
emergency — and `xinfeng tasks stuck` lists it until someone takes it.
"""

from __future__ import annotations

from handlers.core.act import Act, domain_action
from handlers.core.texts import ref
from handlers.tasks.cards import post_offer
from handlers.tasks.outcomes import Escalated, NotOpen, Reported
from handlers.tasks.ownership import (
    Chain,
    Network,
    chain_of,
    level_of,
    tell,
    tell_requesters,
)
from handlers.tasks.routing import DEFAULT_WINDOWS, Windows, teams_for_level
from handlers.tasks.texts import (
    EMERGENCY_NAMES,
    climbed_text,
    emergency_kinds,
    task_offer_text,
)
from storage.models import Task
from storage.tasks.transitions import offered_team_ids, place_task


def _head(task: Task) -> str:
    """How an admin's note names the task: an emergency by its kind."""
    if task.emergency:
        kinds = "、".join(EMERGENCY_NAMES[k] for k in emergency_kinds(task))
        return f"🚨 紧急求助 {ref(task.id)}【{kinds}】"
    return f"任务 {ref(task.id)}【{task.category}】"


@domain_action("escalate")
async def escalate(act: Act, task: Task, *, windows: Windows = DEFAULT_WINDOWS,
                   network: Network | None = None) -> Escalated | Reported | NotOpen:
    """Move a task whose window ran out one level up, offer it there, tell that level's admins and the villager.

    At the top it becomes the report instead. The move is a compare-and-set on the task's
    `escalate_at`, so a second tick or worker finds it moved (NotOpen) and does nothing.
    `network` lets a tick read each village's chain and teams once.
    """
    chain = await chain_of(act, task, network)
    already = set(await offered_team_ids(session=act.session, task_id=task.id))
    for unit in chain.units[chain.index(task) + 1:]:
        teams = [t for t in await teams_for_level(act, task, unit, first=False, network=network)
                 if t.id not in already]
        admins = chain.admins_at(unit)
        if not teams and not admins:
            continue  # nobody at this level to give it to
        level = level_of(unit)
        if not await place_task(session=act.session, task_id=task.id, team_ids=[t.id for t in teams], level=level,
                                now=act.now, window=windows.of(task, level), unit_id=unit.id,
                                owner_id=admins[0].id if admins else task.owner_id, due_at=task.escalate_at,
                                offered=sorted(already)):
            return NotOpen(task)
        station = chain.units[0] if chain.units else None  # the village the offer card says it is from
        for team in teams:
            await post_offer(act, task, team, task_offer_text(task, station, escalated=True))
        note = f"{_head(task)}在下级超时未被接单，已升级到{unit.name}。"
        if not teams:
            note += f" 本级没有对口队伍，请人工派单：派单 {ref(task.id)} <队伍名>"
        note += f"\n内容：{task.description}"
        await tell(act, [a.id for a in admins], note)
        await tell_requesters(act, task, climbed_text(task, unit, teams, admins))
        act.audit("escalate", "task", task.id, level=level, unit_id=unit.id, teams=[t.id for t in teams],
                  admins=[a.id for a in admins])
        return Escalated(task, level, teams, admins, unit)
    return await report_unaccepted(act, task, chain, windows=windows)


@domain_action("escalate_report")
async def report_unaccepted(act: Act, task: Task, chain: Chain | None = None,
                            *, windows: Windows = DEFAULT_WINDOWS) -> Reported | NotOpen:
    """Remind the highest admins that exist of a task still unaccepted at the top, and re-arm its window.

    The center's admins when there are any, else the highest admins along the task's chain;
    with nobody at all it is only marked stuck. Either way `xinfeng tasks stuck` lists it.
    """
    chain = chain or await chain_of(act, task)
    told = chain.told_from(0)
    top = told[-1] if told else None
    window = windows.emergency if task.emergency else windows.center
    owner_id = top[1][0].id if top else task.owner_id
    if not await place_task(session=act.session, task_id=task.id, level=task.dispatch_level or "station",
                            now=act.now, window=window, unit_id=task.owner_unit_id or (top[0].id if top else None),
                            owner_id=owner_id, due_at=task.escalate_at, stuck=True):
        return NotOpen(task)
    await tell(act, [a.id for a in top[1]] if top else [],
               f"{'' if task.emergency else '提醒：'}{_head(task)}仍无人接单，请尽快人工派单。")
    act.audit("escalate_report", "task", task.id, told=len(top[1]) if top else 0)
    return Reported(task, len(top[1]) if top else 0)
