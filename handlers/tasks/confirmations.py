"""Auto-confirmation: a completed task nobody rated within 72 hours is confirmed and credited."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.notify import Notifier
from handlers.core.texts import hours_text, ref
from storage import audit
from storage.models import Person, Task, TaskStatus
from storage.tasks.transitions import active_volunteer_ids, close_task

CONFIRM_AFTER = timedelta(hours=72)


async def auto_confirm_due(session: AsyncSession, now: datetime, after: timedelta = CONFIRM_AFTER) -> int:
    """Confirm every completed task older than `after`; safe to run any number of times."""
    due = (await session.execute(
        select(Task).where(Task.status == TaskStatus.completed.value, Task.completed_at <= now - after)
        .order_by(Task.id)
    )).scalars().all()
    notifier = Notifier(session, now)
    confirmed = 0
    for task in due:
        if not await close_task(session=session, task_id=task.id, now=now):
            continue  # rated, or confirmed by another worker, a moment ago
        confirmed += 1
        audit.record(session, at=now, actor_id=None, action="auto_confirm", target_type="task", target_id=task.id)
        for vid in await active_volunteer_ids(session=session, task_id=task.id):
            volunteer = await session.get(Person, vid)
            if volunteer is not None:
                await notifier.person(volunteer, f"任务 {ref(task.id)} 居民 72 小时内未评价，已自动确认，为您记入 {hours_text(task.hours)} 小时。")
        resident = await session.get(Person, task.resident_id)
        if resident is not None:
            await notifier.person(resident, f"您的任务 {ref(task.id)} 已自动确认完成。如有问题请联系村文明实践站。")
    return confirmed
