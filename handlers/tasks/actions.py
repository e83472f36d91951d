"""The task's domain actions (接单 → 完成 → 评单, 放弃, 取消, 补充, auto-confirm): one function per event.

Each validates (who may, and whether the task still allows it), changes state through one
conditional storage operation, tells everyone concerned through the outbox and writes its
audit row — in the caller's transaction, never committing. It returns an outcome from
`handlers.tasks.outcomes`; commands turn that into their one reply, jobs count it.
"Everyone concerned" (docs/tasks.md) is the resident and whoever ordered for them, the
volunteers who hold it or were sent it, the group cards, and the admin who answers for it.
点单 is `handlers.tasks.ordering`; dispatch and escalation are `routing` and `escalation`.
"""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from handlers.core.act import Act, Refused, domain_action
from handlers.core.messages import Button
from handlers.core.rights import admin_over, member_team_ids
from handlers.core.texts import hours_text, ref
from handlers.tasks.cards import post_offer, refresh_group_cards
from handlers.tasks.ordering import Order, confirm_order
from handlers.tasks.outcomes import (
    Accepted,
    AlreadyYours,
    Amended,
    Cancelled,
    Completed,
    Confirmed,
    HoursNeeded,
    NotCancellable,
    NotOpen,
    Rated,
    Released,
    Taken)
from handlers.tasks.overtime import ask_for_overtime
from handlers.tasks.ownership import chain_of, requesters, tell_requesters
from handlers.tasks.routing import DEFAULT_WINDOWS
from handlers.tasks.self_dealing import household_refusal, over_daily_cap, served_it
from handlers.tasks.texts import volunteer_label
from storage.db import load
from storage.models import Person, Task
from storage.people.network import get_unit, teams_by_ids
from storage.tasks.queries import assignees, people_told_about, refresh_task
from storage.tasks.transitions import (
    AcceptResult,
    accept_task,
    add_note,
    cancel_task,
    close_task,
    complete_task,
    is_assigned,
    offered_team_ids,
    release_task,
)

__all__ = ["DEFAULT_TZ", "Order", "accept", "amend", "auto_confirm", "cancel", "complete", "confirm_order",
           "rate", "release"]

# The region's time zone for a job that does not say (as scheduler/runner.py's DEFAULT_TZ).
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
# Ratings at or below this reach the admin who answers for the village (a complaint).
LOW_RATING = 2


def _ordered_by(act: Act, task: Task) -> bool:
    """Whether the actor is the task's resident or ordered it for them."""
    return act.actor is not None and act.actor.id in (task.resident_id, task.created_by_id)


@domain_action("accept")
async def accept(act: Act, task: Task) -> Accepted | AlreadyYours | Taken | NotOpen | Refused:
    """接单: take one of a task's places, for a team it is offered to; the resident and the group cards learn who."""
    assert act.actor is not None, "only a person accepts a task"
    if _ordered_by(act, task):
        return act.refuse("accept", f"任务 {ref(task.id)} 是您自己点的单，不能自己接，请等其他志愿者接单。",
                          "task", task.id)
    if (household := await household_refusal(act, task)) is not None:  # issue 12: not for one's own home either
        return act.refuse("accept", household, "task", task.id, household=True)
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
    await tell_requesters(act, task, f"好消息！志愿者 {volunteer_label(act.actor)} 接了您的任务 {ref(task.id)}"
                                     f"（{task.category}），会按约定和您联系。")
    if task.emergency:  # every admin was told at once; they hear it is handled
        for _, admins in (await chain_of(act, task)).told_from(0):
            for admin in admins:
                await act.notify.person(admin, f"✅ 紧急求助 {ref(task.id)} 已由志愿者 {act.actor.name} 接单。")
    unit = await get_unit(act.session, task.org_unit_id)
    if task.created_by_id == task.resident_id:
        return Accepted(task, unit)
    return Accepted(task, unit, await load(act.session, Person, task.created_by_id),
                    await load(act.session, Person, task.resident_id))


@domain_action("release")
async def release(act: Act, task: Task) -> Released | Refused:
    """放弃: give a place back; the villager is told, and the task is offered again to its teams."""
    assert act.actor is not None, "only a person releases a task"
    window = DEFAULT_WINDOWS.of(task, task.dispatch_level or "station")
    if not await release_task(session=act.session, task_id=task.id, volunteer_id=act.actor.id, now=act.now,
                              window=window):
        return act.refuse("release", f"您没有接任务 {ref(task.id)}，或它已经完成，不能放弃。", "task", task.id)
    await refresh_task(act.session, task)
    act.audit("release", "task", task.id)
    await refresh_group_cards(act, task)
    await tell_requesters(act, task, f"您的任务 {ref(task.id)}：原来的志愿者有事去不了，正在重新找人，"
                                     f"有人接单我会马上告诉您。")
    for team in await teams_by_ids(act.session, await offered_team_ids(session=act.session, task_id=task.id)):
        await post_offer(act, task, team, f"任务 {ref(task.id)}【{task.category}】又空出来了，需要有人接手。",
                         exclude=[act.actor.id])
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
    if assigned and (over := await over_daily_cap(act, task, act.actor.id, hours)) is not None:
        # Past the day's cap: the volunteer is told, their leaders may approve it (核准时长, audited).
        await ask_for_overtime(act, task, act.actor, hours, over)
        return act.refuse("complete", over.text(task), "task", task.id, hours=str(hours),
                          claimed_that_day=str(over.claimed), cap=str(over.cap))
    if not await complete_task(session=act.session, task_id=task.id, volunteer_id=act.actor.id, hours=hours,
                               now=act.now):
        return NotOpen(task) if assigned else act.refuse("complete", refusal, "task", task.id)
    act.audit("complete", "task", task.id, hours=str(hours))
    for person in await requesters(act, task):
        await act.notify.person(
            person,
            f"志愿者 {act.actor.name} 报告任务 {ref(task.id)} 已完成。请为这次服务打分（1-5 星），也可以写几句话：评价 {ref(task.id)} 5 很满意",
            [Button("★" * n, f"评价 {ref(task.id)} {n}") for n in (5, 4, 3, 2, 1)],
            ref=f"task:{task.id}",
        )
    return Completed(task, hours)


@domain_action("rate")
async def rate(act: Act, task: Task, rating: int, comment: str | None) -> Rated | NotOpen | Refused:
    """评价: the resident (or whoever ordered for them) confirms a completed task and rates it; hours are credited.

    A low rating reaches the admin who answers for the village, as well as the volunteers.
    """
    if not _ordered_by(act, task):
        return act.refuse("rate", f"只有点单的居民可以评价任务 {ref(task.id)}。", "task", task.id)
    if await served_it(act, task):  # issue 12: nobody rates their own service
        return act.refuse("rate", f"您是任务 {ref(task.id)} 的服务志愿者，不能给自己评价。", "task", task.id)
    if not await close_task(session=act.session, task_id=task.id, now=act.now, resident_id=task.resident_id,
                            rating=rating, comment=comment):
        return NotOpen(task)
    await refresh_task(act.session, task)
    act.audit("rate", "task", task.id, rating=rating)
    note = f"，留言：{comment}" if comment else ""
    volunteers = await assignees(act.session, task.id)
    for volunteer in volunteers:
        await act.notify.person(volunteer, f"居民为任务 {ref(task.id)} 打了 {'★' * rating}{note}。"
                                           f"已为您记入 {hours_text(task.hours)} 小时志愿时长，谢谢！")
    if rating <= LOW_RATING:
        nearest = (await chain_of(act, task)).nearest_admins()
        station = await get_unit(act.session, task.org_unit_id)
        who = "、".join(v.name for v in volunteers) or "志愿者"
        for admin in nearest[1] if nearest else []:
            await act.notify.person(admin, f"⚠️ 任务 {ref(task.id)}【{task.category}】（{station.name if station else ''}）"
                                           f"收到 {'★' * rating} 评价{note}。服务的志愿者：{who}。请了解一下情况。")
    return Rated(task, rating)


@domain_action("cancel")
async def cancel(act: Act, task: Task) -> Cancelled | NotCancellable | Refused:
    """取消: the resident before anyone accepted, an admin over the task until completion; everyone who had it is told.

    An emergency skipped the confirmation, so its resident may call it off until it is done.
    """
    unit = await get_unit(act.session, task.org_unit_id)
    is_admin = unit is not None and await admin_over(act, unit) is not None
    own = _ordered_by(act, task)
    if not is_admin and not own:
        return act.refuse("cancel", f"只有点单的居民或管理员可以取消任务 {ref(task.id)}。", "task", task.id)
    volunteers = await assignees(act.session, task.id)  # read before the cancel releases them
    after_accept = is_admin or (own and bool(task.emergency))
    if not await cancel_task(session=act.session, task_id=task.id, now=act.now, by_admin=after_accept):
        return NotCancellable(task, taken=bool(task.accepted_count) and not is_admin)
    act.audit("cancel", "task", task.id, by_admin=is_admin)
    await refresh_task(act.session, task)
    await refresh_group_cards(act, task)
    held = {v.id for v in volunteers}
    for volunteer in volunteers:
        await act.notify.person(volunteer, f"任务 {ref(task.id)} 已被取消，不用再去了，谢谢您。")
    told = held | {act.actor_id, task.resident_id, task.created_by_id}
    for person in await people_told_about(act.session, task.id):
        if person.id not in told:
            await act.notify.person(person, f"任务 {ref(task.id)} 已被取消，不用再接了。")
            told.add(person.id)
    for person in await requesters(act, task):
        if person.id != act.actor_id:
            by = "管理员" if is_admin else (act.actor.name if act.actor else "居民")
            await act.notify.person(person, f"您的任务 {ref(task.id)} 已由{by}取消。如有疑问请联系村文明实践站。")
    if task.owner_id is not None and task.owner_id not in told:
        owner = await load(act.session, Person, task.owner_id)
        if owner is not None:
            await act.notify.person(owner, f"任务 {ref(task.id)}【{task.category}】已取消，不用再处理了。")
    return Cancelled(task)


@domain_action("amend")
async def amend(act: Act, task: Task, text: str) -> Amended | NotOpen | Refused:
    """补充: the villager adds to their open task (an emergency corrected after it went out); its holders hear it."""
    if not _ordered_by(act, task):
        return act.refuse("amend", f"只有点单的居民可以补充任务 {ref(task.id)}。", "task", task.id)
    if not await add_note(session=act.session, task_id=task.id, note=f"补充：{text}"):
        return NotOpen(task)
    await refresh_task(act.session, task)
    act.audit("amend", "task", task.id)
    told = 0
    for volunteer in await assignees(act.session, task.id):
        await act.notify.person(volunteer, f"任务 {ref(task.id)} 居民补充：{text}")
        told += 1
    told += await refresh_group_cards(act, task)
    if task.owner_id is not None:
        owner = await load(act.session, Person, task.owner_id)
        if owner is not None:
            await act.notify.person(owner, f"任务 {ref(task.id)} 居民补充：{text}")
            told += 1
    return Amended(task, told)


@domain_action("auto_confirm")
async def auto_confirm(act: Act, task: Task) -> Confirmed | NotOpen:
    """Confirm a completed task the resident left unrated (the scheduler, after 72 h) and credit the hours."""
    if not await close_task(session=act.session, task_id=task.id, now=act.now):
        return NotOpen(task)  # rated, or confirmed by another worker, a moment ago
    act.audit("auto_confirm", "task", task.id)
    for volunteer in await assignees(act.session, task.id):
        await act.notify.person(volunteer, f"任务 {ref(task.id)} 居民 72 小时内未评价，已自动确认，"
                                           f"为您记入 {hours_text(task.hours)} 小时。")
    await tell_requesters(act, task, f"您的任务 {ref(task.id)} 已自动确认完成。如有问题请联系村文明实践站。")
    return Confirmed(task)
