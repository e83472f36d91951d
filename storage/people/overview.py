"""「我的」 in one query: my latest orders, the tasks I hold, my hours and my points account.

「我的」 is among the commands sent most, and each statement costs a round trip (a thread hop
on SQLite, a network hop on PostgreSQL) inside the update's transaction: four or five separate
reads became one UNION ALL, each branch tagged by its kind. The branches keep the semantics of
`tasks_ordered_by`, `tasks_taken_by`, `total_hours` and the points account read they replace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, case, cast, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import HoursEntry, PointsAccount, Task, TaskAssignment
from storage.programmes.points import HOURS_CORRECTION


@dataclass(frozen=True)
class TaskLine:
    """One task as 「我的」 lists it."""

    id: int
    category: str
    status: str


@dataclass
class Overview:
    """A person's own numbers, as one query reads them."""

    ordered: list[TaskLine] = field(default_factory=list)  # newest first
    taken: list[TaskLine] = field(default_factory=list)  # newest first
    hours: Decimal = Decimal(0)
    services: int = 0
    # (balance, redemption code), or None when the person has no points account yet.
    points: tuple[Decimal, str] | None = None


@lru_cache(maxsize=8)
def _statement(limit: int) -> Any:
    """The query, built once per limit: built anew, its construction and cache key cost as much as running it."""
    person_id = bindparam("person_id")
    hours_type = HoursEntry.__table__.c.hours.type
    balance_type = PointsAccount.__table__.c.balance.type
    # Every branch has the same columns: kind, id, category, status, hours, count, balance, code.
    # The first branch types the NULLs, so the values are read back as the single reads did.
    ordered = (select(Task.id, Task.category, Task.status).where(Task.resident_id == person_id)
               .order_by(Task.id.desc()).limit(limit).subquery())
    taken = (select(Task.id, Task.category, Task.status).join(TaskAssignment, TaskAssignment.task_id == Task.id)
             .where(TaskAssignment.volunteer_id == person_id, TaskAssignment.active.is_(True))
             .order_by(Task.id.desc()).limit(limit).subquery())

    def tasks(kind: str, sub: Any) -> Any:
        return select(literal(kind).label("kind"), sub.c.id, sub.c.category, sub.c.status,
                      cast(null(), hours_type).label("hours"), cast(null(), HoursEntry.id.type).label("n"),
                      cast(null(), balance_type).label("balance"), cast(null(), PointsAccount.code.type).label("code"))

    services = case((HoursEntry.source_type == HOURS_CORRECTION, None), else_=HoursEntry.id)
    hours = select(literal("h"), null(), null(), null(), func.coalesce(func.sum(HoursEntry.hours), 0),
                   func.count(services), null(), null()).where(HoursEntry.volunteer_id == person_id)
    points = select(literal("p"), null(), null(), null(), null(), null(), PointsAccount.balance,
                    PointsAccount.code).where(PointsAccount.person_id == person_id)
    return union_all(tasks("o", ordered), tasks("t", taken), hours, points)


async def overview(session: AsyncSession, person_id: int, *, limit: int = 5) -> Overview:
    """What 「我的」 shows, in one statement (tasks as of `limit` newest of each kind)."""
    rows = (await session.execute(_statement(limit), {"person_id": person_id})).all()
    found = Overview()
    for kind, task_id, category, status, total, count, balance, code in rows:
        if kind == "o":
            found.ordered.append(TaskLine(task_id, category, status))
        elif kind == "t":
            found.taken.append(TaskLine(task_id, category, status))
        elif kind == "h":
            found.hours, found.services = Decimal(total), int(count)
        else:
            found.points = (Decimal(balance or 0), code)
    found.ordered.sort(key=lambda t: -t.id)
    found.taken.sort(key=lambda t: -t.id)
    return found
