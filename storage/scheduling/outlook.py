"""What falls due next, read for `xinfeng jobs list`: activities ahead, escalations, tasks awaiting confirmation.

Read-only queries; the schedule of each job is worked out above, in `scheduler/`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from storage.db import Session
from storage.models import Task, TaskStatus
from storage.models.activities import Activity, ActivitySignup


async def planned_with_signups(session: Session, after: datetime, until: datetime) -> list[tuple[int, str, datetime, int]]:
    """(id, title, starts_at, signed-up count) of planned activities starting in (after, until], soonest first."""
    signed = (select(func.count()).where(ActivitySignup.activity_id == Activity.id, ActivitySignup.status == "signed")
              .correlate(Activity).scalar_subquery())
    rows = await session.execute(
        select(Activity.id, Activity.title, Activity.starts_at, signed)
        .where(Activity.status == "planned", Activity.starts_at > after, Activity.starts_at <= until)
        .order_by(Activity.starts_at)
    )
    return [(int(aid), title, start, int(n)) for aid, title, start, n in rows]


async def escalations_until(session: Session, until: datetime) -> list[tuple[int, datetime, str | None]]:
    """(task id, escalate_at, dispatch level) of open, untaken tasks whose window runs out by `until`.

    Submitted tasks count: one held by an admin (no team offered) escalates like any other.
    """
    rows = await session.execute(
        select(Task.id, Task.escalate_at, Task.dispatch_level)
        .where(Task.status.in_([TaskStatus.submitted.value, TaskStatus.dispatched.value]),
               Task.accepted_count < Task.volunteers_needed,
               Task.escalate_at.is_not(None), Task.escalate_at <= until)
    )
    return [(int(tid), at, level) for tid, at, level in rows]


async def completed_tasks(session: Session) -> list[tuple[int, datetime]]:
    """(task id, completed_at) of tasks completed and not yet confirmed."""
    rows = await session.execute(select(Task.id, Task.completed_at).where(Task.status == TaskStatus.completed.value))
    return [(int(tid), done) for tid, done in rows]
