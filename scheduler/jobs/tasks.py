"""The task routines (docs/tasks.md): escalating unanswered offers, and confirming completed tasks after 72 h.

`handlers.tasks` moves the state (and notifies everyone concerned); the scheduler only runs it
each tick under the leader's fence, and lists from the database when each will happen next —
with every task that waits longer than its window, and why (`handlers.tasks.stuck`).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from handlers.tasks.confirmations import CONFIRM_AFTER, auto_confirm_due
from handlers.tasks.dispatch import escalate_due
from handlers.tasks.stuck import stuck_report
from scheduler.fire import Routine
from scheduler.job import Firing
from storage.db import Session
from storage.scheduling.outlook import completed_tasks, escalations_until


async def _escalations(session: Session, now: datetime, end: datetime, tz: tzinfo) -> list[Firing]:
    """Each open task whose window runs out by `end`; those already waiting too long say why."""
    stuck = {s.task_id: s for s in await stuck_report(session, now)}
    found = [Firing(s.since, "escalate", f"任务 #{s.task_id} 卡住：{s.why}（在：{s.holder}）", overdue=True)
             for s in stuck.values()]
    found += [Firing(at, "escalate", f"任务 #{tid}（目前在 {level or 'station'} 级）", overdue=at <= now)
              for tid, at, level in await escalations_until(session, end) if tid not in stuck]
    return found


async def _confirmations(session: Session, now: datetime, end: datetime, tz: tzinfo) -> list[Firing]:
    """Each completed task that confirms itself by `end` (overdue if it should have)."""
    found = []
    for tid, done in await completed_tasks(session):
        at = done + CONFIRM_AFTER
        if at <= end:
            found.append(Firing(at, "auto_confirm", f"任务 #{tid}", overdue=at <= now))
    return found


ESCALATE_JOB = Routine("escalate", escalate_due, listed=_escalations)
AUTO_CONFIRM_JOB = Routine("auto_confirm", auto_confirm_due, listed=_confirmations)
