"""Queries over the four-level network: subtrees, ancestors, teams by category."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OrgUnit, Task, TaskStatus, Team


def in_subtree(column_path: ColumnElement[str], root_path: str) -> ColumnElement[bool]:
    """A condition: the unit whose path is `column_path` lies in the subtree at `root_path`."""
    return column_path.startswith(root_path, autoescape=True)


async def get_unit(session: AsyncSession, unit_id: int) -> OrgUnit | None:
    """Load one org unit by id."""
    return await session.get(OrgUnit, unit_id)


async def unit_by_code(session: AsyncSession, code: str) -> OrgUnit | None:
    """Load one org unit by its code."""
    return (await session.execute(select(OrgUnit).where(OrgUnit.code == code))).scalar_one_or_none()


async def ancestors(session: AsyncSession, unit: OrgUnit) -> list[OrgUnit]:
    """The unit and every unit above it, nearest first."""
    ids = [int(p) for p in unit.path.strip("/").split("/") if p]
    if not ids:
        return [unit]
    rows = (await session.execute(select(OrgUnit).where(OrgUnit.id.in_(ids)))).scalars().all()
    by_id = {u.id: u for u in rows}
    return [by_id[i] for i in reversed(ids) if i in by_id]


def is_within(unit_path: str, scope_path: str) -> bool:
    """Tell whether a unit (by path) lies in a scope's subtree."""
    return unit_path.startswith(scope_path)


async def teams_for_category(
    session: AsyncSession, unit_id: int, category: str
) -> Sequence[tuple[Team, int]]:
    """Teams attached to exactly this unit that serve `category`, with their open-task counts.

    Fewest open tasks first, so routing spreads the load (PRODUCT.md §3).
    """
    from storage.models import TaskAssignment

    open_count = (
        select(func.count(TaskAssignment.id))
        .join(Task, Task.id == TaskAssignment.task_id)
        .where(
            TaskAssignment.team_id == Team.id,
            TaskAssignment.active.is_(True),
            Task.status.in_([TaskStatus.dispatched.value, TaskStatus.accepted.value]),
        )
        .correlate(Team)
        .scalar_subquery()
    )
    stmt = (
        select(Team, open_count.label("open"))
        .where(Team.org_unit_id == unit_id, Team.categories.contains(f"|{category}|", autoescape=True))
        .order_by(open_count, Team.id)
    )
    return [(t, int(n)) for t, n in (await session.execute(stmt)).all()]


async def match_units(session: AsyncSession, text: str, levels: Sequence[str]) -> list[OrgUnit]:
    """Units of the given levels whose name contains `text` (or the reverse), best first."""
    rows = (await session.execute(select(OrgUnit).where(OrgUnit.level.in_(list(levels))))).scalars().all()
    return [u for u in rows if text and (text in u.name or u.name in text)]
