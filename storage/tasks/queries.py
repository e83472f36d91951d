"""Reading tasks: a person's own lists (我的)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Task, TaskAssignment


async def tasks_ordered_by(session: AsyncSession, resident_id: int, *, limit: int) -> list[Task]:
    """A resident's latest tasks, newest first."""
    stmt = select(Task).where(Task.resident_id == resident_id).order_by(Task.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars().all())


async def tasks_taken_by(session: AsyncSession, volunteer_id: int, *, limit: int) -> list[Task]:
    """The tasks a volunteer currently holds a place on, newest first."""
    stmt = (select(Task).join(TaskAssignment, TaskAssignment.task_id == Task.id)
            .where(TaskAssignment.volunteer_id == volunteer_id, TaskAssignment.active.is_(True))
            .order_by(Task.id.desc()).limit(limit))
    return list((await session.execute(stmt)).scalars().all())
