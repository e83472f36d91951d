"""The task's domain actions (点单 → 接单 → 完成 → 评单, 放弃, 取消, auto-confirm): one function per event.

Each validates (who may, and whether the task still allows it), changes state through one
conditional storage operation, tells everyone concerned through the outbox and writes its
audit row — in the caller's transaction, never committing. It returns an outcome from
`handlers.tasks.outcomes`; commands turn that into their one reply, jobs count it.
Dispatch and escalation live in `handlers.tasks.routing`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from handlers.core.act import Act, Refused, domain_action
from handlers.core.messages import Button
from handlers.core.rights import admin_over, may_order_for, member_team_ids
from handlers.core.texts import hours_text, ref
from handlers.tasks.cards import refresh_group_cards
from handlers.tasks.outcomes import (
    Accepted,
    AlreadyYours,
    Cancelled,
    Completed,
    Confirmed,
    Dispatched,
    HoursNeeded,
    NotCancellable,
    NotOpen,
    Ordered,
    Rated,
    Released,
    Taken,
)
from handlers.tasks.routing import offer_to_team
from handlers.tasks.texts import accept_button, volunteer_label, where_it_went
from storage.db import load
from storage.models import Person, Task
from storage.people.network import get_unit, teams_by_ids
from storage.tasks.queries import assignees, refresh_task
from storage.tasks.transitions import (
    AcceptResult,
    accept_task,
    cancel_task,
    close_task,
    complete_task,
    create_task,
    is_assigned,
    offered_team_ids,
    release_task,
)

# The region's time zone for a job that does not say (as scheduler/runner.py's DEFAULT_TZ).
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Order:
    """A confirmed draft: what a resident needs, as parsed, with the description as they wrote it."""

    resident_id: int
    category: str
    description: str
    wanted: tuple[datetime, datetime] | None = None
    phone: str | None = None
    place: str | None = None
    urgent: bool = False
    media: list[dict[str, str]] = field(default_factory=list)


@domain_action("order")
async def confirm_order(act: Act, order: Order) -> Ordered | Refused:
    """点单 (or 代点单): create the task from a confirmed draft and dispatch it; tell a resident ordered for."""
    resident = await load(act.session, Person, order.resident_id)
    if resident is None or resident.org_unit_id is None:
        return act.refuse("order", "抱歉，找不到这位居民的村/社区，请重新点单。", "person", order.resident_id)
    on_behalf = act.actor is not None and act.actor.id != resident.id
    if on_behalf:
        # Checked again at confirmation: the draft may have waited while a grant was withdrawn.
        unit = await get_unit(act.session, resident.org_unit_id)
        if unit is None or not await may_order_for(act, unit):
            where = unit.name if unit is not None else "本村"
            return act.refuse("order", f"只有{where}的管理员或驻村第一书记可以代这位居民点单。", "person", resident.id)
    task = await create_task(
        session=act.session, resident_id=resident.id, created_by_id=act.actor_id or resident.id,
        org_unit_id=resident.org_unit_id, category=order.category, description=order.description, now=act.now,
        wanted=order.wanted, phone=order.phone or resident.phone, place=order.place, urgent=order.urgent,
        media=order.media,
    )
    act.audit("order", "task", task.id, category=task.category, on_behalf=on_behalf or None)
    dispatched = await offer_to_team(act, task)
    team = dispatched.team if isinstance(dispatched, Dispatched) else None
    if on_behalf and act.actor is not None:
        await act.notify.person(resident, f"{act.actor.name}为您代点了一项服务（任务 {ref(task.id)}）：{task.description}\n"
                                          f"{where_it_went(team)}")
    return Ordered(task, team)


@domain_action("accept")
async def accept(act: Act, task: Task) -> Accepted | AlreadyYours | Taken | NotOpen | Refused:
    """接单: take one of a task's places, for a team it is offered to; the resident and the group cards learn who."""
    assert act.actor is not None, "only a person accepts a task"
    offered = await offered_team_ids(session=act.session, task_id=task.id)
    mine = [t for t in offered if t in await member_team_ids(act)]
    if not mine:
        where = "、".join(t.name for t in await teams_by_ids(act.session, offered)) or "还没派给任何队伍"
        return act.refuse("accept", f"抱歉，任务 {ref(task.id)} 派给了「{where}」，只有这些队伍的队员可以接单。", "task", task.id)
    result = await accept_task(session=act.session, task_id=task.id, volunteer_id=act.actor.id, team_id=mine[0],
                               now=act.now)
    if result is AcceptResult.already:
        return AlreadyYours(task)
    if result is AcceptResult.taken:
        act.audit("accept", "task", task.id, outcome="taken")
        return Taken(task)
    if result is AcceptResult.not_open:
        return NotOpen(task)
    await refresh_task(act.session, task)
    act.audit("accept", "task", task.id, team_id=mine[0])
    await refresh_group_cards(act, task)
    resident = await load(act.session, Person, task.resident_id)
    if resident is not None:
        await act.notify.person(resident, f"好消息！志愿者 {volunteer_label(act.actor)} 接了您的任务 {ref(task.id)}"
                                          f"（{task.category}），会按约定和您联系。")
    return Accepted(task, await get_unit(act.session, task.org_unit_id))


@domain_action("release")
async def release(act: Act, task: Task) -> Released | Refused:
    """放弃: give a place back; the task is offered again to its teams (all but the one who left)."""
    assert act.actor is not None, "only a person releases a task"
    if not await release_task(session=act.session, task_id=task.id, volunteer_id=act.actor.id, now=act.now):
        return act.refuse("release", f"您没有接任务 {ref(task.id)}，或它已经完成，不能放弃。", "task", task.id)
    await refresh_task(act.session, task)
    act.audit("release", "task", task.id)
    await refresh_group_cards(act, task)
    for team in await teams_by_ids(act.session, await offered_team_ids(session=act.session, task_id=task.id)):
        await act.notify.team(team, f"任务 {ref(task.id)}【{task.category}】又空出来了，需要有人接手。",
                              accept_button(task.id), ref=f"task:{task.id}", exclude_person_ids={act.actor.id})
    return Released(task)


@domain_action("complete")
async def complete(act: Act, task: Task, hours: Decimal | None) -> Completed | HoursNeeded | NotOpen | Refused:
    """完成: an assignee reports the task done with the hours spent; the resident is asked to rate it.

    Without `hours` nothing changes: an assignee is asked how long it took (HoursNeeded).
    """
    assert act.actor is not None, "only a person completes a task"
    refusal = f"只有接了任务 {ref(task.id)} 的志愿者可以报告完成。"
    assigned = await is_assigned(session=act.session, task_id=task.id, volunteer_id=act.actor.id)
    if hours is None:
        return HoursNeeded(task) if assigned else act.refuse("complete", refusal, "task", task.id)
    if not await complete_task(session=act.session, task_id=task.id, volunteer_id=act.actor.id, hours=hours,
                               now=act.now):
        return NotOpen(task) if assigned else act.refuse("complete", refusal, "task", task.id)
    act.audit("complete", "task", task.id, hours=str(hours))
    resident = await load(act.session, Person, task.resident_id)
    if resident is not None:
        await act.notify.person(
            resident,
            f"志愿者 {act.actor.name} 报告任务 {ref(task.id)} 已完成。请为这次服务打分（1-5 星），也可以写几句话：评价 {ref(task.id)} 5 很满意",
            [Button("★" * n, f"评价 {ref(task.id)} {n}") for n in (5, 4, 3, 2, 1)],
            ref=f"task:{task.id}",
        )
    return Completed(task, hours)


@domain_action("rate")
async def rate(act: Act, task: Task, rating: int, comment: str | None) -> Rated | NotOpen | Refused:
    """评价: the resident confirms a completed task and rates it; the volunteers' hours are credited."""
    if act.actor is None or task.resident_id != act.actor.id:
        return act.refuse("rate", f"只有点单的居民可以评价任务 {ref(task.id)}。", "task", task.id)
    if not await close_task(session=act.session, task_id=task.id, now=act.now, resident_id=act.actor.id,
                            rating=rating, comment=comment):
        return NotOpen(task)
    await refresh_task(act.session, task)
    act.audit("rate", "task", task.id, rating=rating)
    note = f"，留言：{comment}" if comment else ""
    for volunteer in await assignees(act.session, task.id):
        await act.notify.person(volunteer, f"居民为任务 {ref(task.id)} 打了 {'★' * rating}{note}。"
                                           f"已为您记入 {hours_text(task.hours)} 小时志愿时长，谢谢！")
    return Rated(task, rating)


@domain_action("cancel")
async def cancel(act: Act, task: Task) -> Cancelled | NotCancellable | Refused:
    """取消: the resident before anyone accepted, an admin over the task until completion; everyone who had it is told."""
    unit = await get_unit(act.session, task.org_unit_id)
    is_admin = unit is not None and await admin_over(act, unit) is not None
    if not is_admin and (act.actor is None or task.resident_id != act.actor.id):
        return act.refuse("cancel", f"只有点单的居民或管理员可以取消任务 {ref(task.id)}。", "task", task.id)
    volunteers = await assignees(act.session, task.id)  # read before the cancel releases them
    if not await cancel_task(session=act.session, task_id=task.id, now=act.now, by_admin=is_admin):
        return NotCancellable(task, taken=bool(task.accepted_count) and not is_admin)
    act.audit("cancel", "task", task.id, by_admin=is_admin)
    await refresh_task(act.session, task)
    await refresh_group_cards(act, task)
    for volunteer in volunteers:
        await act.notify.person(volunteer, f"任务 {ref(task.id)} 已被取消，不用再去了，谢谢您。")
    if act.actor_id != task.resident_id:
        resident = await load(act.session, Person, task.resident_id)
        if resident is not None:
            await act.notify.person(resident, f"您的任务 {ref(task.id)} 已由管理员取消。如有疑问请联系村文明实践站。")
    return Cancelled(task)


@domain_action("auto_confirm")
async def auto_confirm(act: Act, task: Task) -> Confirmed | NotOpen:
    """Confirm a completed task the resident left unrated (the scheduler, after 72 h) and credit the hours."""
    if not await close_task(session=act.session, task_id=task.id, now=act.now):
        return NotOpen(task)  # rated, or confirmed by another worker, a moment ago
    act.audit("auto_confirm", "task", task.id)
    for volunteer in await assignees(act.session, task.id):
        await act.notify.person(volunteer, f"任务 {ref(task.id)} 居民 72 小时内未评价，已自动确认，"
                                           f"为您记入 {hours_text(task.hours)} 小时。")
    resident = await load(act.session, Person, task.resident_id)
    if resident is not None:
        await act.notify.person(resident, f"您的任务 {ref(task.id)} 已自动确认完成。如有问题请联系村文明实践站。")
    return Confirmed(task)
