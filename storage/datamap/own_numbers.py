"""The numbers 统计 shows people who are not admins: a captain's teams, one's own orders and hours.

Admins read the maintained aggregates (`storage.datamap.figures`); these few counts are small
enough to ask the tables directly.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import HoursEntry, Task, TaskAssignment, TeamMember


async def team_size(session: AsyncSession, team_id: int) -> int:
    """How many members a team has."""
    return int((await session.execute(select(func.count()).where(TeamMember.team_id == team_id))).scalar_one())


async def team_tasks_closed(session: AsyncSession, team_id: int) -> int:
    """How many tasks a team's members took and saw closed (each task once)."""
    stmt = (select(func.count(func.distinct(TaskAssignment.task_id)))
            .join(Task, Task.id == TaskAssignment.task_id)
            .where(TaskAssignment.team_id == team_id, Task.status == "closed"))
    return int((await session.execute(stmt)).scalar_one())


async def hours_served(session: AsyncSession, person_id: int) -> Decimal:
    """A volunteer's credited service hours, all time."""
    stmt = select(func.coalesce(func.sum(HoursEntry.hours), 0)).where(HoursEntry.volunteer_id == person_id)
    # SQLite may sum to a float: through str, so 1.1 stays 1.1.
    return Decimal(str((await session.execute(stmt)).scalar_one()))


async def orders_placed(session: AsyncSession, person_id: int) -> int:
    """How many tasks a resident has ordered (点单)."""
    return int((await session.execute(select(func.count()).where(Task.resident_id == person_id))).scalar_one())
