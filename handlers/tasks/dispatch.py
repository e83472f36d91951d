"""派单 and 改类别 by hand, and the escalation job: thin callers of the routing, category and escalation actions.

An admin names a task and a team ("派单 #12 科技服务队") or the category it really is ("改类别 #12
卫生健康"); the scheduler moves every task whose window ran out one level up. Which team, which
level and who is told is the actions' business. A 派单 to a team that serves another category
also teaches the intake what the category was (`handlers.tasks.recategorise.learn_from_dispatch`).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from handlers.core.act import Act, Refused
from handlers.core.context import Context
from handlers.core.router import Router
from handlers.core.texts import ref, usage
from handlers.language.lexicon import CATEGORIES
from handlers.language.textnorm import parse_ref
from handlers.tasks.actions import DEFAULT_TZ
from handlers.tasks.escalation import escalate
from handlers.tasks.outcomes import (
    Dispatched,
    Escalated,
    NotOpen,
    Reported,
    TeamAmbiguous,
    TeamNotFound,
)
from handlers.tasks.ownership import Network, Placement
from handlers.tasks.recategorise import (
    Recategorised,
    SameCategory,
    learn_from_dispatch,
    recategorise,
)
from handlers.tasks.routing import DEFAULT_WINDOWS, Windows, offer_to_team
from handlers.tasks.texts import holder, team_names
from storage.db import Session, load
from storage.models import Task
from storage.tasks.queries import tasks_due_to_escalate

router = Router("dispatch")

# Escalations a tick takes at most: a province's steady tick moves far fewer; a backlog drains over a few ticks.
BATCH = 200


@router.command("派单", "/dispatch")
async def dispatch_by_hand(ctx: Context, args: str) -> None:
    """Dispatch a task to a named team (admins, within their subtree)."""
    task_id = parse_ref(args.split()[0]) if args.split() else None
    team_query = " ".join(args.split()[1:])
    if task_id is None or not team_query:
        ctx.reply(usage("派单 #任务号 队伍名", "派单 #12 科技服务队"))
        return
    task = await load(ctx.session, Task, task_id)
    if task is None:
        ctx.reply(f"没有找到任务 {ref(task_id)}。")
        return
    match await offer_to_team(ctx.act, task, team_query):
        case Refused(reason):
            ctx.reply(reason)
        case TeamNotFound(query):
            ctx.reply(f"没有找到名为「{query}」的队伍。")
        case TeamAmbiguous(query, names):
            ctx.reply(f"有几个队伍符合「{query}」：{'、'.join(names)}。请写全队伍名。")
        case NotOpen():
            ctx.reply(f"任务 {ref(task.id)} 已{'完成' if task.status in ('completed', 'closed') else '结束'}，不能再派单。")
        case Dispatched(_, team, _):
            await learn_from_dispatch(ctx.act, task, team)
            ctx.reply(f"已把任务 {ref(task.id)} 派给「{team.name}」。")


@router.command("改类别", "/recategorise")
async def change_category(ctx: Context, args: str) -> None:
    """Correct a task's category (admins over it); a task nobody took yet is routed again."""
    parts = args.split()
    task_id = parse_ref(parts[0]) if parts else None
    category = parts[1] if len(parts) > 1 else ""
    if task_id is None or category not in CATEGORIES:
        ctx.reply(usage("改类别 #任务号 类别", "改类别 #12 卫生健康") + "\n类别有：" + "、".join(CATEGORIES))
        return
    task = await load(ctx.session, Task, task_id)
    if task is None:
        ctx.reply(f"没有找到任务 {ref(task_id)}。")
        return
    match await recategorise(ctx.act, task, category):
        case Refused(reason):
            ctx.reply(reason)
        case NotOpen():
            ctx.reply(f"任务 {ref(task.id)} 已取消，不用再改类别。")
        case SameCategory():
            ctx.reply(f"任务 {ref(task.id)} 的类别已经是「{category}」了。")
        case Recategorised(_, old, None):
            ctx.reply(f"已把任务 {ref(task.id)} 的类别从「{old}」改为「{category}」。已有志愿者接单，不再改派。")
        case Recategorised(_, old, placed):
            ctx.reply(f"已把任务 {ref(task.id)} 的类别从「{old}」改为「{category}」，{placed_text(placed)}。")


def placed_text(placed: Placement) -> str:
    """Where a re-routed task went, as the admin who moved it reads it."""
    if placed.teams:
        return f"已重新派给{team_names(placed.teams)}"
    if placed.admins and placed.unit is not None:
        return f"没有对口的队伍，已交给{holder(placed.unit, placed.admins)}"
    return "暂时没有能接手的队伍和管理员，已记入待办（xinfeng tasks stuck）"


async def escalate_due(session: Session, now: datetime, windows: Windows = DEFAULT_WINDOWS,
                       *, tz: tzinfo = DEFAULT_TZ, batch: int = BATCH) -> int:
    """Move up to `batch` tasks whose window has run out one level up (emergencies first); returns how many moved.

    Each move is a compare-and-set on `escalate_at`, so running this twice, or on two
    workers, moves a task once. A backlog (after downtime) is taken a batch a tick, so one
    tick's transaction — on SQLite, the database's one writer — stays short.
    """
    act = Act(session=session, now=now, tz=tz)
    due = await tasks_due_to_escalate(session, now, limit=batch)
    network = Network()  # the roster around every due task, read once for the whole tick
    await network.prefetch(act, due)
    moved = 0
    for task in due:
        if isinstance(await escalate(act, task, windows=windows, network=network), Escalated | Reported):
            moved += 1
    return moved
