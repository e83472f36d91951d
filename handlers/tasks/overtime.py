"""核准时长: a captain or admin lets a task's report past the daily hours cap, explicitly and on the record.

A volunteer whose `完成 #12 14小时` would take their day past the cap
(`Act.daily_cap`, the operator's `XINFENG_DAILY_HOURS_CAP`) gets a polite answer, and the leaders of their team (or,
without captains, the nearest admins over the village) get a button that sends
`核准时长 #12 <姓名> 14小时`. Pressing it reports the task done for that volunteer with those
hours — the villager is asked to rate it as after any report — and writes the `hours_over_cap`
audit row with the day's hours and the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from handlers.core.act import Act, Refused, domain_action
from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.rights import admin_over, may_lead
from handlers.core.router import Router
from handlers.core.texts import hours_text, ref, usage
from handlers.language.textnorm import parse_hours, parse_ref
from handlers.tasks.ownership import chain_of, requesters
from handlers.tasks.self_dealing import OverCap
from storage.db import load
from storage.models import Person, Task, Team
from storage.people.network import captains_of, get_unit, team_ids_of, teams_by_ids
from storage.tasks.hours import hours_on_day
from storage.tasks.queries import assignees
from storage.tasks.transitions import complete_task, offered_team_ids

router = Router("overtime")

# A day has 24 hours: nothing above that is approved, whoever asks.
MAX_HOURS = Decimal(24)


@dataclass(frozen=True)
class OvertimeApproved:
    """A leader reported the task done for `volunteer` with `hours`, past the daily cap."""

    task: Task
    volunteer: Person
    hours: Decimal


async def _teams_of(act: Act, task: Task, volunteer: Person) -> list[Team]:
    """The teams through which the volunteer holds the task (offered to it, and theirs)."""
    offered = set(await offered_team_ids(session=act.session, task_id=task.id))
    return await teams_by_ids(act.session, sorted(offered & await team_ids_of(act.session, volunteer.id)))


async def ask_for_overtime(act: Act, task: Task, volunteer: Person, hours: Decimal, over: OverCap) -> int:
    """Ask the volunteer's captains (else the nearest admins) to approve hours past the daily cap; how many were asked."""
    leaders: dict[int, Person] = {}
    for team in await _teams_of(act, task, volunteer):
        for captain in await captains_of(act.session, team.id):
            leaders.setdefault(captain.id, captain)
    if not leaders:
        nearest = (await chain_of(act, task)).nearest_admins()
        for admin in nearest[1] if nearest else []:
            leaders.setdefault(admin.id, admin)
    leaders.pop(volunteer.id, None)  # nobody approves their own hours
    text = (f"⏱ {volunteer.name} 报告任务 {ref(task.id)}【{task.category}】服务了 {hours_text(hours)} 小时，"
            f"加上今天已报的 {hours_text(over.claimed)} 小时，超过了每天 {hours_text(over.cap)} 小时的上限。"
            f"如果属实，请点「核准」；不属实请不用理会，并和{volunteer.name}核对。")
    command = f"核准时长 {ref(task.id)} {volunteer.name} {hours_text(hours)}小时"
    for leader in leaders.values():
        await act.notify.person(leader, text, [Button("核准", command)], ref=f"task:{task.id}")
    return len(leaders)


async def _may_approve(act: Act, task: Task, volunteer: Person) -> bool:
    """A captain of a team the volunteer holds the task through, or an admin over the task's village."""
    if act.actor is None or act.actor.id == volunteer.id:
        return False
    for team in await _teams_of(act, task, volunteer):
        if await may_lead(act, team):
            return True
    unit = await get_unit(act.session, task.org_unit_id)
    return unit is not None and await admin_over(act, unit) is not None


@domain_action("hours_over_cap")
async def approve_overtime(act: Act, task: Task, volunteer: Person, hours: Decimal) -> OvertimeApproved | Refused:
    """Report a task done for a volunteer with hours past the daily cap, on a leader's explicit word."""
    if not await _may_approve(act, task, volunteer):
        return act.refuse("hours_over_cap", f"只有{volunteer.name}所在队伍的队长或管理员可以核准超过上限的时长。",
                          "task", task.id, volunteer_id=volunteer.id)
    claimed = await hours_on_day(act.session, volunteer_id=volunteer.id, at=act.now, tz=act.tz,
                                 excluding_task_id=task.id)
    if not await complete_task(session=act.session, task_id=task.id, volunteer_id=volunteer.id, hours=hours,
                               now=act.now):
        return act.refuse("hours_over_cap", f"任务 {ref(task.id)} 已经不在{volunteer.name}手上，或已经报告完成了。",
                          "task", task.id, volunteer_id=volunteer.id)
    act.audit("hours_over_cap", "task", task.id, volunteer_id=volunteer.id, hours=str(hours),
              claimed_that_day=str(claimed), cap=str(act.daily_cap))
    by = act.actor.name if act.actor is not None else "队长"
    await act.notify.person(volunteer, f"{by} 核准了您在任务 {ref(task.id)} 的 {hours_text(hours)} 小时，"
                                       "居民确认后计入您的志愿时长。")
    for person in await requesters(act, task):
        await act.notify.person(
            person,
            f"志愿者 {volunteer.name} 报告任务 {ref(task.id)} 已完成。请为这次服务打分（1-5 星），也可以写几句话：评价 {ref(task.id)} 5 很满意",
            [Button("★" * n, f"评价 {ref(task.id)} {n}") for n in (5, 4, 3, 2, 1)],
            ref=f"task:{task.id}",
        )
    return OvertimeApproved(task, volunteer, hours)


@router.command("核准时长", "/approve_hours")
async def approve(ctx: Context, args: str) -> None:
    """Approve a task's hours past the daily cap for one of my volunteers: 核准时长 #12 赵志愿 14小时."""
    words = args.split()
    task_id = parse_ref(words[0]) if words else None
    hours = parse_hours(" ".join(words[2:])) if len(words) > 2 else None
    if task_id is None or hours is None or not 0 < hours <= MAX_HOURS:
        ctx.reply(usage("核准时长 #任务号 姓名 小时数", "核准时长 #12 赵志愿 14小时"))
        return
    task: Task | None = await load(ctx.session, Task, task_id)
    volunteer = next((p for p in await assignees(ctx.session, task_id) if p.name == words[1]), None) if task else None
    if task is None or volunteer is None:
        ctx.reply(f"任务 {ref(task_id)} 没有叫「{words[1][:20]}」的接单志愿者，请核对。")
        return
    outcome = await approve_overtime(ctx.act, task, volunteer, Decimal(str(hours)))
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    else:
        ctx.reply(f"已核准：{volunteer.name} 在任务 {ref(task.id)} 服务 {hours_text(outcome.hours)} 小时，"
                  "已请居民确认评价。")
