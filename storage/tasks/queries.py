"""Reading tasks: a person's own lists (我的), who holds a task, and what the clock owes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person, Task, TaskAssignment, TaskStatus


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


async def refresh_task(session: AsyncSession, task: Task) -> Task:
    """The task reloaded from the database, after a transition changed it behind the session's back."""
    await session.refresh(task)
    return task


async def assignees(session: AsyncSession, task_id: int) -> list[Person]:
    """The volunteers currently assigned to a task, in the order they took their places."""
    stmt = (select(Person).join(TaskAssignment, TaskAssignment.volunteer_id == Person.id)
            .where(TaskAssignment.task_id == task_id, TaskAssignment.active.is_(True))
            .order_by(TaskAssignment.id))
    return list((await session.execute(stmt)).scalars().all())


async def assignee_names(session: AsyncSession, task_id: int) -> list[str]:
    """The names of the volunteers currently assigned to a task, in the order they accepted."""
    stmt = (select(Person.name).join(TaskAssignment, TaskAssignment.volunteer_id == Person.id)
            .where(TaskAssignment.task_id == task_id, TaskAssignment.active.is_(True))
            .order_by(TaskAssignment.accepted_at, TaskAssignment.id))
    return list((await session.execute(stmt)).scalars())


async def tasks_due_to_escalate(session: AsyncSession, now: datetime) -> list[Task]:
    """Dispatched tasks whose window at their level has run out by `now`, oldest first."""
    stmt = (select(Task).where(Task.status == TaskStatus.dispatched.value, Task.escalate_at <= now)
            .order_by(Task.id))
    return list((await session.execute(stmt)).scalars().all())


async def tasks_completed_before(session: AsyncSession, cutoff: datetime) -> list[Task]:
    """Completed tasks still waiting for the resident's confirmation since `cutoff` or earlier."""
    stmt = (select(Task).where(Task.status == TaskStatus.completed.value, Task.completed_at <= cutoff)
            .order_by(Task.id))
    return list((await session.execute(stmt)).scalars().all())
