"""Where an open task waits: offered to teams, held by an admin, at a level, with a window (派单, escalation).

Part of the task transitions (`storage.tasks.transitions` re-exports these): each is one
conditional UPDATE whose WHERE clause carries its precondition, so two ticks or two workers
moving the same task cannot both succeed. Committing is the caller's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Task, TaskOffer, TaskStatus
from storage.sql import rowcount

OPEN = (TaskStatus.submitted.value, TaskStatus.dispatched.value)


async def offer_task(
    *,
    session: AsyncSession,
    task_id: int,
    team_ids: list[int],
    level: str,
    now: datetime,
    window: timedelta | None,
    by_person_id: int | None = None,
    replace: bool = False,
    due_at: datetime | None = None,
) -> bool:
    """Offer an open task to teams at a level (派单); False if it is no longer open.

    `replace` withdraws earlier offers first (an admin's re-dispatch); escalation keeps them,
    so the lower level's teams may still accept. `due_at` makes the offer an escalation: it
    happens only while the task is still waiting and still due at that instant — a
    compare-and-set, so two ticks or two workers move a task once — and `dispatched_at`
    keeps the first dispatch. With no `team_ids` it only moves the level and re-arms the window.
    """
    return await place_task(session=session, task_id=task_id, team_ids=team_ids, level=level, now=now,
                            window=window, by_person_id=by_person_id, replace=replace, due_at=due_at)


async def place_task(
    *,
    session: AsyncSession,
    task_id: int,
    level: str,
    now: datetime,
    window: timedelta | None,
    team_ids: Sequence[int] = (),
    unit_id: int | None = None,
    owner_id: int | None = None,
    by_person_id: int | None = None,
    replace: bool = False,
    due_at: datetime | None = None,
    stuck: bool = False,
    offered: Sequence[int] | None = None,
) -> bool:
    """Put an open task where it waits next: offered to `team_ids`, held by `owner_id`, at `level`.

    One conditional UPDATE (see `offer_task` for `replace` and `due_at`): the task becomes
    "dispatched" once some team holds an offer, and stays "submitted" while only an admin
    holds it. `stuck` marks that it has nowhere left to go (kept from the first time);
    anything else clears that mark. `offered`: the teams already offered it, when the caller
    has just read them.
    """
    if due_at is not None:
        conds = [Task.status.in_(OPEN), Task.escalate_at == due_at, Task.accepted_count < Task.volunteers_needed]
    else:
        conds = [Task.status.in_(OPEN + (TaskStatus.accepted.value,) if replace else OPEN)]
    existing = set(offered) if offered is not None and not replace else None
    if existing is None and not replace:
        existing = set(await offered_team_ids(session=session, task_id=task_id))
    held = bool(team_ids) or bool(existing)
    values: dict[str, object] = {
        "status": case(
            (Task.accepted_count >= Task.volunteers_needed, Task.status),
            else_=TaskStatus.dispatched.value,
        ) if held else Task.status,
        "dispatch_level": level,
        "escalate_at": (now + window) if window is not None else None,
        "owner_id": owner_id,
        "owner_unit_id": unit_id,
        "stuck_since": case((Task.stuck_since.is_(None), now), else_=Task.stuck_since) if stuck else None,
    }
    if due_at is None and team_ids:
        values["dispatched_at"] = now
    result = await session.execute(
        update(Task).where(Task.id == task_id, *conds).values(**values).execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return False
    if replace:
        await session.execute(delete(TaskOffer).where(TaskOffer.task_id == task_id))
    for team_id in team_ids:
        if team_id not in (existing or set()):
            session.add(
                TaskOffer(task_id=task_id, team_id=team_id, level=level, offered_at=now, by_person_id=by_person_id)
            )
    await session.flush()
    return True


async def offered_team_ids(*, session: AsyncSession, task_id: int) -> list[int]:
    """The teams a task is currently offered to."""
    stmt = select(TaskOffer.team_id).where(TaskOffer.task_id == task_id).order_by(TaskOffer.id)
    return list((await session.execute(stmt)).scalars())
