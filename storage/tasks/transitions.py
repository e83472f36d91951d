"""Task transitions (点单→派单→接单→完成→评单), each one conditional database operation.

Every function takes the session as a keyword argument and leaves committing to the
caller, so the transition, its audit row and the messages it causes commit together.
A transition's WHERE clause carries its precondition: two callers racing for the same
change cannot both succeed, on SQLite (writers queue) or PostgreSQL (row locks).
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Task, TaskAssignment, TaskStatus
from storage.sql import rowcount
from storage.tasks.hours import credit_hours
from storage.tasks.placement import OPEN, offer_task, offered_team_ids, place_task

__all__ = ["OPEN", "AcceptResult", "accept_task", "active_volunteer_ids", "add_note", "cancel_task", "close_task",
           "complete_task", "create_task", "is_assigned", "offer_task", "offered_team_ids", "place_task",
           "release_task"]


class AcceptResult(enum.Enum):
    """How an accept ended."""

    won = "won"
    taken = "taken"
    already = "already"
    not_open = "not_open"



async def create_task(
    *,
    session: AsyncSession,
    resident_id: int,
    created_by_id: int,
    org_unit_id: int,
    category: str,
    description: str,
    now: datetime,
    wanted: tuple[datetime, datetime] | None = None,
    phone: str | None = None,
    place: str | None = None,
    urgent: bool = False,
    media: list[dict[str, str]] | None = None,
    volunteers_needed: int = 1,
    emergency: str | None = None,
) -> Task:
    """Create a submitted task (点单); `emergency` holds an emergency's kinds ("medical,fire")."""
    task = Task(
        resident_id=resident_id,
        created_by_id=created_by_id,
        org_unit_id=org_unit_id,
        category=category,
        description=description,
        wanted_start=wanted[0] if wanted else None,
        wanted_end=wanted[1] if wanted else None,
        phone=phone,
        place=place,
        urgent=urgent,
        media=media or [],
        volunteers_needed=max(1, volunteers_needed),
        status=TaskStatus.submitted.value,
        accepted_count=0,
        created_at=now,
        emergency=emergency,
    )
    session.add(task)
    await session.flush()
    return task


async def accept_task(
    *, session: AsyncSession, task_id: int, volunteer_id: int, team_id: int | None, now: datetime
) -> AcceptResult:
    """Claim one of a task's places (接单): exactly `volunteers_needed` claims ever win.

    The counter update and the assignment row share a savepoint: if the same volunteer's
    second press loses on the unique key, its increment is rolled back with it.
    """
    already = await session.execute(
        select(TaskAssignment.id).where(
            TaskAssignment.task_id == task_id,
            TaskAssignment.volunteer_id == volunteer_id,
            TaskAssignment.active.is_(True),
        )
    )
    if already.first() is not None:
        return AcceptResult.already
    try:
        async with session.begin_nested():
            result = await session.execute(
                update(Task)
                .where(
                    Task.id == task_id,
                    Task.status == TaskStatus.dispatched.value,
                    Task.accepted_count < Task.volunteers_needed,
                )
                .values(
                    accepted_count=Task.accepted_count + 1,
                    status=case(
                        (Task.accepted_count + 1 >= Task.volunteers_needed, TaskStatus.accepted.value),
                        else_=Task.status,
                    ),
                    accepted_at=now,
                    escalate_at=case(
                        (Task.accepted_count + 1 >= Task.volunteers_needed, None), else_=Task.escalate_at
                    ),
                    stuck_since=case(
                        (Task.accepted_count + 1 >= Task.volunteers_needed, None), else_=Task.stuck_since
                    ),
                )
                .execution_options(synchronize_session=False)
            )
            if rowcount(result) != 1:
                status = (await session.execute(select(Task.status).where(Task.id == task_id))).scalar()
                if status in (TaskStatus.accepted.value, TaskStatus.completed.value, TaskStatus.closed.value):
                    return AcceptResult.taken
                return AcceptResult.not_open
            revived = await session.execute(
                update(TaskAssignment)
                .where(
                    TaskAssignment.task_id == task_id,
                    TaskAssignment.volunteer_id == volunteer_id,
                    TaskAssignment.active.is_(False),
                )
                .values(active=True, accepted_at=now, released_at=None, team_id=team_id)
                .execution_options(synchronize_session=False)
            )
            if rowcount(revived) == 0:
                # An active row committed meanwhile by the same volunteer's other press makes
                # this insert fail on the unique key, undoing the increment above.
                session.add(
                    TaskAssignment(
                        task_id=task_id, volunteer_id=volunteer_id, team_id=team_id, active=True, accepted_at=now
                    )
                )
                await session.flush()
    except IntegrityError:
        return AcceptResult.already
    return AcceptResult.won


async def release_task(*, session: AsyncSession, task_id: int, volunteer_id: int, now: datetime,
                       window: timedelta | None = None) -> bool:
    """Give a claimed place back (放弃) before completion; the task is open again.

    With `window` the task's clock starts again (an accepted task had none): nobody took the
    place back within it, and it climbs like any other task.
    """
    task_open = exists().where(
        Task.id == task_id, Task.status.in_([TaskStatus.dispatched.value, TaskStatus.accepted.value])
    )
    result = await session.execute(
        update(TaskAssignment)
        .where(
            TaskAssignment.task_id == task_id,
            TaskAssignment.volunteer_id == volunteer_id,
            TaskAssignment.active.is_(True),
            task_open,
        )
        .values(active=False, released_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return False
    values: dict[str, object] = {"accepted_count": Task.accepted_count - 1, "status": TaskStatus.dispatched.value}
    if window is not None:
        values["escalate_at"] = case((Task.escalate_at.is_(None), now + window), else_=Task.escalate_at)
    await session.execute(
        update(Task).where(Task.id == task_id).values(**values).execution_options(synchronize_session=False)
    )
    return True


async def add_note(*, session: AsyncSession, task_id: int, note: str, limit: int = 2000) -> bool:
    """Append a line to an open task's description (a villager's correction); False once it is done."""
    task = await session.get(Task, task_id)
    if task is None or task.status not in OPEN + (TaskStatus.accepted.value,):
        return False
    task.description = f"{task.description}\n{note}"[:limit]
    await session.flush()
    return True


async def complete_task(
    *, session: AsyncSession, task_id: int, volunteer_id: int, hours: Decimal, now: datetime
) -> bool:
    """Report a task done (完成) with the hours spent; only an assigned volunteer may."""
    assigned = exists().where(
        TaskAssignment.task_id == task_id,
        TaskAssignment.volunteer_id == volunteer_id,
        TaskAssignment.active.is_(True),
    )
    result = await session.execute(
        update(Task)
        .where(
            Task.id == task_id,
            Task.status.in_([TaskStatus.accepted.value, TaskStatus.dispatched.value]),
            assigned,
        )
        .values(status=TaskStatus.completed.value, hours=hours, completed_at=now, escalate_at=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


async def close_task(
    *,
    session: AsyncSession,
    task_id: int,
    now: datetime,
    resident_id: int | None = None,
    rating: int | None = None,
    comment: str | None = None,
) -> bool:
    """Confirm a completed task (评单, or automatically after 72 h) and credit the hours.

    With `resident_id` only that resident may confirm; the scheduler's auto-confirm passes None.
    """
    conds = [Task.id == task_id, Task.status == TaskStatus.completed.value]
    if resident_id is not None:
        conds.append(Task.resident_id == resident_id)
    result = await session.execute(
        update(Task)
        .where(*conds)
        .values(status=TaskStatus.closed.value, rating=rating, comment=comment, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return False
    hours = (await session.execute(select(Task.hours).where(Task.id == task_id))).scalar() or Decimal(0)
    volunteers = (
        await session.execute(
            select(TaskAssignment.volunteer_id).where(
                TaskAssignment.task_id == task_id, TaskAssignment.active.is_(True)
            # In volunteer id order, never acceptance order: crediting locks each volunteer's rows
            # (points account, aggregates), and two confirmations sharing volunteers must take those
            # locks in one order, or on PostgreSQL each can wait for the other (a deadlock).
            ).order_by(TaskAssignment.volunteer_id)
        )
    ).scalars()
    for vid in volunteers.all():
        await credit_hours(session=session, volunteer_id=vid, hours=hours, source_type="task",
                           source_id=task_id, now=now)
    await session.flush()
    return True


async def cancel_task(*, session: AsyncSession, task_id: int, now: datetime, by_admin: bool) -> bool:
    """Cancel a task: a resident only before anyone accepted, an admin until completion."""
    conds = [Task.id == task_id]
    if by_admin:
        conds.append(Task.status.in_(OPEN + (TaskStatus.accepted.value,)))
    else:
        conds += [Task.status.in_(OPEN), Task.accepted_count == 0]
    result = await session.execute(
        update(Task)
        .where(*conds)
        .values(status=TaskStatus.cancelled.value, closed_at=now, escalate_at=None)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return False
    await session.execute(
        update(TaskAssignment)
        .where(TaskAssignment.task_id == task_id, TaskAssignment.active.is_(True))
        .values(active=False, released_at=now)
        .execution_options(synchronize_session=False)
    )
    return True


async def active_volunteer_ids(*, session: AsyncSession, task_id: int) -> list[int]:
    """Volunteers currently assigned to a task."""
    stmt = select(TaskAssignment.volunteer_id).where(
        TaskAssignment.task_id == task_id, TaskAssignment.active.is_(True)
    ).order_by(TaskAssignment.id)
    return list((await session.execute(stmt)).scalars())


async def is_assigned(*, session: AsyncSession, task_id: int, volunteer_id: int) -> bool:
    """Whether a volunteer is an active assignee of a task."""
    stmt = select(TaskAssignment.id).where(
        TaskAssignment.task_id == task_id, TaskAssignment.volunteer_id == volunteer_id,
        TaskAssignment.active.is_(True))
    return (await session.execute(stmt)).first() is not None
