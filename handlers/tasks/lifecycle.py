"""接单 · 放弃 · 完成 · 评价 · 取消: what volunteers and residents do with a task."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.permissions import admin_over, is_assigned, member_team_ids
from handlers.core.router import Router
from handlers.core.texts import STATUS_ZH, hours_text, ref, task_card, usage
from handlers.language.textnorm import parse_hours, parse_rating, parse_ref
from handlers.tasks.cards import refresh_group_cards
from handlers.tasks.dispatch import accept_button
from storage.models import OrgUnit, Person, Task, Team
from storage.tasks.transitions import (
    AcceptResult,
    accept_task,
    active_volunteer_ids,
    cancel_task,
    close_task,
    complete_task,
    offered_team_ids,
    release_task,
)

router = Router("tasks")

MAX_HOURS = 24


async def _task(ctx: Context, args: str, command: str, example: str) -> Task | None:
    task_id = parse_ref(args.split()[0]) if args.split() else None
    if task_id is None:
        ctx.reply(usage(f"{command} #任务号", example))
        return None
    task = await ctx.session.get(Task, task_id)
    if task is None:
        ctx.reply(f"没有找到任务 {ref(task_id)}，请核对任务号。")
    return task


def _volunteer_label(volunteer: Person) -> str:
    if volunteer.share_phone and volunteer.phone:
        return f"{volunteer.name}（{volunteer.phone}）"
    return volunteer.name


@router.command("接单", "/accept")
async def accept(ctx: Context, args: str) -> None:
    """Accept a task dispatched to one of my teams."""
    task = await _task(ctx, args, "接单", "接单 #12")
    if task is None:
        return
    offered = await offered_team_ids(session=ctx.session, task_id=task.id)
    mine = [t for t in offered if t in await member_team_ids(ctx)]
    if not mine:
        names = [t.name for t in (await ctx.session.execute(select(Team).where(Team.id.in_(offered)))).scalars()]
        where = "、".join(names) or "还没派给任何队伍"
        ctx.refuse(f"抱歉，任务 {ref(task.id)} 派给了「{where}」，只有这些队伍的队员可以接单。", "accept", "task", task.id)
        return
    result = await accept_task(session=ctx.session, task_id=task.id, volunteer_id=ctx.person.id,
                               team_id=mine[0], now=ctx.now)
    if result is AcceptResult.already:
        ctx.reply(f"您已经接了任务 {ref(task.id)}。")
        return
    if result is AcceptResult.taken:
        ctx.reply(f"谢谢您的热心！任务 {ref(task.id)} 已经有人接了。")
        ctx.audit("accept", "task", task.id, outcome="taken")
        return
    if result is AcceptResult.not_open:
        ctx.reply(f"任务 {ref(task.id)} 现在{STATUS_ZH.get(task.status, task.status)}，不能接单。")
        return
    await ctx.session.refresh(task)
    ctx.audit("accept", "task", task.id, team_id=mine[0])
    unit = await ctx.session.get(OrgUnit, task.org_unit_id)
    buttons = [Button("完成", f"完成 {ref(task.id)}"), Button("放弃", f"放弃 {ref(task.id)}")]
    card = ("接单成功，谢谢您！\n" + task_card(ctx, task, unit, contact=True)
            + f"\n服务完成后请发：完成 {ref(task.id)} 小时数")
    if ctx.in_group:
        # The card carries the resident's phone and address: to the volunteer alone, never the group.
        await ctx.notify(ctx.person, card, buttons, ref=f"task:{task.id}")
        ctx.reply(f"接单成功，谢谢您！任务 {ref(task.id)} 的联系方式已私信发给您（没收到请先私聊我发 /start）。")
    else:
        ctx.reply(card, buttons, ref=f"task:{task.id}")
    await refresh_group_cards(ctx.session, ctx.notifier, task)
    resident = await ctx.session.get(Person, task.resident_id)
    if resident is not None:
        await ctx.notify(resident, f"好消息！志愿者 {_volunteer_label(ctx.person)} 接了您的任务 {ref(task.id)}（{task.category}），会按约定和您联系。")


@router.command("放弃", "/release")
async def release(ctx: Context, args: str) -> None:
    """Give a task back so someone else can take it."""
    task = await _task(ctx, args, "放弃", "放弃 #12")
    if task is None:
        return
    if not await release_task(session=ctx.session, task_id=task.id, volunteer_id=ctx.person.id, now=ctx.now):
        ctx.refuse(f"您没有接任务 {ref(task.id)}，或它已经完成，不能放弃。", "release", "task", task.id)
        return
    await ctx.session.refresh(task)
    ctx.audit("release", "task", task.id)
    ctx.reply(f"已放弃任务 {ref(task.id)}，我会请队里其他人接手。")
    await refresh_group_cards(ctx.session, ctx.notifier, task)
    for team in (await ctx.session.execute(
        select(Team).where(Team.id.in_(await offered_team_ids(session=ctx.session, task_id=task.id))))).scalars().all():
        await ctx.notifier.team(team, f"任务 {ref(task.id)}【{task.category}】又空出来了，需要有人接手。",
                                accept_button(task.id), ref=f"task:{task.id}", exclude_person_ids={ctx.person.id})


@router.command("完成", "/done")
async def done(ctx: Context, args: str) -> None:
    """Report a task done with the hours spent: 完成 #12 2小时."""
    task = await _task(ctx, args, "完成", "完成 #12 2小时")
    if task is None:
        return
    rest = " ".join(args.split()[1:])
    hours = parse_hours(rest) if rest else None
    if hours is None:
        if not await is_assigned(ctx, task):
            ctx.refuse(f"只有接了任务 {ref(task.id)} 的志愿者可以报告完成。", "complete", "task", task.id)
            return
        ctx.reply(f"任务 {ref(task.id)} 服务了多长时间？请发：完成 {ref(task.id)} 2小时",
                  [Button(f"{h}小时", f"完成 {ref(task.id)} {h}小时") for h in (1, 2, 3, 4)])
        return
    if not 0 < hours <= MAX_HOURS:
        ctx.reply(f"时长要在 0 到 {MAX_HOURS} 小时之间，请重新发送，例如：完成 {ref(task.id)} 2小时")
        return
    amount = Decimal(str(round(hours, 2)))
    if not await complete_task(session=ctx.session, task_id=task.id, volunteer_id=ctx.person.id, hours=amount, now=ctx.now):
        if await is_assigned(ctx, task):
            ctx.reply(f"任务 {ref(task.id)} 现在{STATUS_ZH.get(task.status, task.status)}，不能再报告完成。")
        else:
            ctx.refuse(f"只有接了任务 {ref(task.id)} 的志愿者可以报告完成。", "complete", "task", task.id)
        return
    ctx.audit("complete", "task", task.id, hours=str(amount))
    ctx.reply(f"辛苦了！任务 {ref(task.id)} 已报告完成（{hours_text(amount)} 小时），居民确认后计入您的志愿时长。")
    resident = await ctx.session.get(Person, task.resident_id)
    if resident is not None:
        await ctx.notify(
            resident,
            f"志愿者 {ctx.person.name} 报告任务 {ref(task.id)} 已完成。请为这次服务打分（1-5 星），也可以写几句话：评价 {ref(task.id)} 5 很满意",
            [Button("★" * n, f"评价 {ref(task.id)} {n}") for n in (5, 4, 3, 2, 1)],
            ref=f"task:{task.id}",
        )


@router.command("评价", "/rate")
async def rate(ctx: Context, args: str) -> None:
    """Confirm a completed task and rate it 1–5, with an optional comment."""
    task = await _task(ctx, args, "评价", "评价 #12 5 很满意")
    if task is None:
        return
    parts = args.split(maxsplit=2)
    rating = parse_rating(parts[1]) if len(parts) > 1 else None
    if rating is None:
        ctx.reply(usage("评价 #任务号 1-5 [想说的话]", f"评价 {ref(task.id)} 5 很满意"))
        return
    if task.resident_id != ctx.person.id:
        ctx.refuse(f"只有点单的居民可以评价任务 {ref(task.id)}。", "rate", "task", task.id)
        return
    comment = parts[2] if len(parts) > 2 else None
    if not await close_task(session=ctx.session, task_id=task.id, now=ctx.now, resident_id=ctx.person.id,
                            rating=rating, comment=comment):
        ctx.reply(f"任务 {ref(task.id)} 现在{STATUS_ZH.get(task.status, task.status)}，不能评价。")
        return
    await ctx.session.refresh(task)
    ctx.audit("rate", "task", task.id, rating=rating)
    ctx.reply(f"谢谢您的评价（{'★' * rating}）！任务 {ref(task.id)} 已完成。")
    for vid in await active_volunteer_ids(session=ctx.session, task_id=task.id):
        volunteer = await ctx.session.get(Person, vid)
        if volunteer is not None:
            note = f"，留言：{comment}" if comment else ""
            await ctx.notify(volunteer, f"居民为任务 {ref(task.id)} 打了 {'★' * rating}{note}。已为您记入 {hours_text(task.hours)} 小时志愿时长，谢谢！")


@router.command("取消", "/cancel")
async def cancel(ctx: Context, args: str) -> None:
    """Cancel a task: my own before anyone accepted, or any in my subtree as an admin."""
    task = await _task(ctx, args, "取消", "取消 #12")
    if task is None:
        return
    unit = await ctx.session.get(OrgUnit, task.org_unit_id)
    is_admin = unit is not None and await admin_over(ctx, unit) is not None
    if not is_admin and task.resident_id != ctx.person.id:
        ctx.refuse(f"只有点单的居民或管理员可以取消任务 {ref(task.id)}。", "cancel", "task", task.id)
        return
    volunteers = await active_volunteer_ids(session=ctx.session, task_id=task.id)
    if not await cancel_task(session=ctx.session, task_id=task.id, now=ctx.now, by_admin=is_admin):
        why = "已经有志愿者接单，如需取消请联系站长" if task.accepted_count and not is_admin else f"现在{STATUS_ZH.get(task.status, task.status)}"
        ctx.reply(f"任务 {ref(task.id)} {why}，不能取消。")
        return
    ctx.audit("cancel", "task", task.id, by_admin=is_admin)
    await ctx.session.refresh(task)
    await refresh_group_cards(ctx.session, ctx.notifier, task)
    ctx.reply(f"任务 {ref(task.id)} 已取消。")
    for vid in volunteers:
        volunteer = await ctx.session.get(Person, vid)
        if volunteer is not None:
            await ctx.notify(volunteer, f"任务 {ref(task.id)} 已被取消，不用再去了，谢谢您。")
    if task.resident_id != ctx.person.id:
        resident = await ctx.session.get(Person, task.resident_id)
        if resident is not None:
            await ctx.notify(resident, f"您的任务 {ref(task.id)} 已由管理员取消。如有疑问请联系村文明实践站。")
