"""接单 · 放弃 · 完成 · 评价 · 取消: what volunteers and residents type; the actions do the rest.

Each command reads its arguments, calls the domain action in `handlers.tasks.actions` and
turns the outcome into its one reply.
"""

from __future__ import annotations

from decimal import Decimal

from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.router import Router
from handlers.core.texts import STATUS_ZH, hours_text, ref, usage
from handlers.language.textnorm import parse_hours, parse_rating, parse_ref
from handlers.tasks import actions
from handlers.tasks.outcomes import (
    Accepted,
    AlreadyYours,
    Cancelled,
    Completed,
    HoursNeeded,
    NotCancellable,
    NotOpen,
    Rated,
    Released,
    Taken,
)
from handlers.tasks.texts import contact_line, task_card
from storage.db import load
from storage.models import Task

router = Router("tasks")

MAX_HOURS = 24


async def _task(ctx: Context, args: str, command: str, example: str) -> Task | None:
    task_id = parse_ref(args.split()[0]) if args.split() else None
    if task_id is None:
        ctx.reply(usage(f"{command} #任务号", example))
        return None
    task = await load(ctx.session, Task, task_id)
    if task is None:
        ctx.reply(f"没有找到任务 {ref(task_id)}，请核对任务号。")
    return task


def _status(task: Task) -> str:
    return STATUS_ZH.get(task.status, task.status)


@router.command("接单", "/accept")
async def accept(ctx: Context, args: str) -> None:
    """Accept a task dispatched to one of my teams."""
    task = await _task(ctx, args, "接单", "接单 #12")
    if task is None:
        return
    match await actions.accept(ctx.act, task):
        case Refused(reason):
            ctx.reply(reason)
        case AlreadyYours():
            ctx.reply(f"您已经接了任务 {ref(task.id)}。")
        case Taken():
            ctx.reply(f"谢谢您的热心！任务 {ref(task.id)} 已经有人接了。")
        case NotOpen():
            ctx.reply(f"任务 {ref(task.id)} 现在{_status(task)}，不能接单。")
        case Accepted(task, unit, orderer, resident):
            buttons = [Button("完成", f"完成 {ref(task.id)}"), Button("放弃", f"放弃 {ref(task.id)}")]
            card = ("接单成功，谢谢您！\n" + task_card(task, unit, contact=True, tz=ctx.tz) + contact_line(orderer, resident)
                    + f"\n服务完成后请发：完成 {ref(task.id)} 小时数")
            if ctx.in_group:
                # The card carries the resident's phone and address: to the volunteer alone, never the group.
                await ctx.notify(ctx.person, card, buttons, ref=f"task:{task.id}")
                ctx.reply(f"接单成功，谢谢您！任务 {ref(task.id)} 的联系方式已私信发给您（没收到请先私聊我发 /start）。")
            else:
                ctx.reply(card, buttons, ref=f"task:{task.id}")


@router.command("放弃", "/release")
async def release(ctx: Context, args: str) -> None:
    """Give a task back so someone else can take it."""
    task = await _task(ctx, args, "放弃", "放弃 #12")
    if task is None:
        return
    match await actions.release(ctx.act, task):
        case Refused(reason):
            ctx.reply(reason)
        case Released():
            ctx.reply(f"已放弃任务 {ref(task.id)}，我会请队里其他人接手。")


@router.command("完成", "/done")
async def done(ctx: Context, args: str) -> None:
    """Report a task done with the hours spent: 完成 #12 2小时."""
    task = await _task(ctx, args, "完成", "完成 #12 2小时")
    if task is None:
        return
    rest = " ".join(args.split()[1:])
    hours = parse_hours(rest) if rest else None
    if hours is not None and not 0 < hours <= MAX_HOURS:
        ctx.reply(f"时长要在 0 到 {MAX_HOURS} 小时之间，请重新发送，例如：完成 {ref(task.id)} 2小时")
        return
    amount = Decimal(str(round(hours, 2))) if hours is not None else None
    match await actions.complete(ctx.act, task, amount):
        case Refused(reason):
            ctx.reply(reason)
        case HoursNeeded():
            ctx.reply(f"任务 {ref(task.id)} 服务了多长时间？请发：完成 {ref(task.id)} 2小时",
                      [Button(f"{h}小时", f"完成 {ref(task.id)} {h}小时") for h in (1, 2, 3, 4)])
        case NotOpen():
            ctx.reply(f"任务 {ref(task.id)} 现在{_status(task)}，不能再报告完成。")
        case Completed(_, amount):
            ctx.reply(f"辛苦了！任务 {ref(task.id)} 已报告完成（{hours_text(amount)} 小时），居民确认后计入您的志愿时长。")


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
    comment = parts[2] if len(parts) > 2 else None
    match await actions.rate(ctx.act, task, rating, comment):
        case Refused(reason):
            ctx.reply(reason)
        case NotOpen():
            ctx.reply(f"任务 {ref(task.id)} 现在{_status(task)}，不能评价。")
        case Rated(_, rating):
            ctx.reply(f"谢谢您的评价（{'★' * rating}）！任务 {ref(task.id)} 已完成。")


@router.command("取消", "/cancel")
async def cancel(ctx: Context, args: str) -> None:
    """Cancel a task: my own before anyone accepted, or any in my subtree as an admin."""
    task = await _task(ctx, args, "取消", "取消 #12")
    if task is None:
        return
    match await actions.cancel(ctx.act, task):
        case Refused(reason):
            ctx.reply(reason)
        case NotCancellable(_, taken):
            why = "已经有志愿者接单，如需取消请联系站长" if taken else f"现在{_status(task)}"
            ctx.reply(f"任务 {ref(task.id)} {why}，不能取消。")
        case Cancelled():
            ctx.reply(f"任务 {ref(task.id)} 已取消。")
