"""Reading tasks: a person's own lists (我的), who holds a task, who was told about it, and what the clock owes.

Also the one small write the intake's 改类别 needs (`recategorise_task`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    OutboxMessage,
    Person,
    Task,
    TaskAssignment,
    TaskOffer,
    TaskStatus,
    TeamMember,
)
from storage.sql import rowcount

OPEN = (TaskStatus.submitted.value, TaskStatus.dispatched.value)


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


async def tasks_due_to_escalate(session: AsyncSession, now: datetime, *, limit: int | None = None) -> list[Task]:
    """Open tasks nobody has taken whose window at their level has run out by `now`: emergencies, then oldest first.

    Submitted tasks count too: one held by an admin (no team offered) climbs like any other.
    """
    stmt = (select(Task).where(Task.escalate_at <= now, Task.status.in_(OPEN),
                               Task.accepted_count < Task.volunteers_needed)
            .order_by(Task.emergency.is_(None), Task.escalate_at, Task.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    return list((await session.execute(stmt)).scalars().all())


async def stuck_tasks(session: AsyncSession, overdue_before: datetime, *, limit: int = 500) -> list[Task]:
    """Open, untaken tasks waiting longer than their window, oldest first.

    Listed: a window that ran out before `overdue_before` without the task moving, the top
    reached (`stuck_since`), or no window at all. `stuck_since` and `escalate_at` are indexed.
    """
    stmt = (select(Task).where(
        Task.status.in_(OPEN), Task.accepted_count < Task.volunteers_needed,
        or_(Task.stuck_since.is_not(None), Task.escalate_at <= overdue_before, Task.escalate_at.is_(None)))
        .order_by(Task.created_at, Task.id).limit(limit))
    return list((await session.execute(stmt)).scalars().all())


async def people_told_about(session: AsyncSession, task_id: int, *, team_ids: Sequence[int] | None = None,
                            except_team_ids: Sequence[int] = ()) -> list[Person]:
    """Everyone sent a direct message about a task (its offer card, an accept card), by id.

    With `team_ids`, only members of those teams (whose offer a re-dispatch withdraws), and
    none of `except_team_ids` (the team it went to instead).
    """
    stmt = (select(Person).where(Person.id.in_(
        select(OutboxMessage.person_id).where(OutboxMessage.ref == f"task:{task_id}",
                                              OutboxMessage.person_id.is_not(None)))))
    if team_ids is not None:
        stmt = stmt.where(Person.id.in_(select(TeamMember.person_id).where(TeamMember.team_id.in_(list(team_ids)))))
    if except_team_ids:
        stmt = stmt.where(Person.id.not_in(
            select(TeamMember.person_id).where(TeamMember.team_id.in_(list(except_team_ids)))))
    return list((await session.execute(stmt.order_by(Person.id))).scalars().all())


async def tasks_completed_before(session: AsyncSession, cutoff: datetime) -> list[Task]:
    """Completed tasks still waiting for the resident's confirmation since `cutoff` or earlier."""
    stmt = (select(Task).where(Task.status == TaskStatus.completed.value, Task.completed_at <= cutoff)
            .order_by(Task.id))
    return list((await session.execute(stmt)).scalars().all())


async def open_tasks_held_by(session: AsyncSession, volunteer_id: int) -> list[Task]:
    """The tasks a volunteer holds a place on that are still to be done, newest first."""
    stmt = (select(Task).join(TaskAssignment, TaskAssignment.task_id == Task.id)
            .where(TaskAssignment.volunteer_id == volunteer_id, TaskAssignment.active.is_(True),
                   Task.status.in_((TaskStatus.dispatched.value, TaskStatus.accepted.value)))
            .order_by(Task.id.desc()))
    return list((await session.execute(stmt)).scalars().all())


async def latest_activity_offered(session: AsyncSession, person_id: int, since: datetime) -> int | None:
    """The activity a person was last sent a message about (its card, a change) since `since`, by id."""
    stmt = (select(OutboxMessage.ref).where(OutboxMessage.person_id == person_id,
                                            OutboxMessage.ref.like("activity:%"), OutboxMessage.created_at >= since)
            .order_by(OutboxMessage.id.desc()).limit(1))
    found = await session.scalar(stmt)
    _, _, number = (found or "").partition(":")
    return int(number) if number.isdigit() else None


async def recent_open_task_ordered_by(session: AsyncSession, person_id: int, since: datetime) -> Task | None:
    """The newest task a person ordered (or ordered for someone) since `since` that is not done yet."""
    stmt = (select(Task).where(or_(Task.resident_id == person_id, Task.created_by_id == person_id),
                               Task.created_at >= since,
                               Task.status.in_(OPEN + (TaskStatus.accepted.value,)))
            .order_by(Task.id.desc()).limit(1))
    return (await session.execute(stmt)).scalars().first()


async def recategorise_task(session: AsyncSession, task_id: int, category: str) -> bool:
    """Set a task's category; True when nobody had taken it: it is then submitted again, offered to nobody.

    One conditional update decides it, so an accept racing the change either happened first
    (the category changes, the volunteer keeps the task) or finds the task to be placed again.
    """
    result = await session.execute(
        update(Task).where(Task.id == task_id, Task.status.in_(OPEN), Task.accepted_count == 0)
        .values(category=category, status=TaskStatus.submitted.value, stuck_since=None)
        .execution_options(synchronize_session=False))
    if rowcount(result) == 1:
        await session.execute(delete(TaskOffer).where(TaskOffer.task_id == task_id))
        return True
    await session.execute(update(Task).where(Task.id == task_id).values(category=category)
                          .execution_options(synchronize_session=False))
    return False
