"""派单 by hand, and the escalation job: thin callers of the actions in `handlers.tasks.routing` and `escalation`.

An admin names a task and a team ("派单 #12 科技服务队"); the scheduler moves every task whose
window ran out one level up. Which team, which level and who is told is the actions' business.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from handlers.core.act import Act, Refused
from handlers.core.context import Context
from handlers.core.router import Router
from handlers.core.texts import ref, usage
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
from handlers.tasks.ownership import Network
from handlers.tasks.routing import DEFAULT_WINDOWS, Windows, offer_to_team
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
            ctx.reply(f"已把任务 {ref(task.id)} 派给「{team.name}」。")


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
