"""Pairings (结对帮扶): who is paired with which households, their visits, and monthly counts.

A month is the region's calendar month: callers pass the time zone, and `month_bounds`
turns "this month" into the UTC instants stored in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OrgUnit, Person
from storage.models.pairings import Pairing, PairingVisit
from storage.people.network import in_subtree
from storage.sql import rowcount


@dataclass(frozen=True)
class MonthCount:
    """One pairing's visits and problems solved in a month."""

    visits: int = 0
    problems_solved: int = 0


def month_bounds(at: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """The calendar month containing `at` in the region's zone, as [start, end) in UTC."""
    local = at.astimezone(tz)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    # Built from wall-clock fields, so a zone with DST gets each boundary's own offset.
    start = datetime(local.year, local.month, 1, tzinfo=tz)
    end = datetime(year, month, 1, tzinfo=tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


async def add_pairing(
    *, session: AsyncSession, volunteer_id: int, org_unit_id: int, household_name: str,
    household_phone: str | None, now: datetime,
) -> tuple[Pairing, bool]:
    """Pair a volunteer with a household (re-activating an old pairing); True if it is new."""
    cond = (Pairing.volunteer_id == volunteer_id, Pairing.org_unit_id == org_unit_id,
            Pairing.household_name == household_name)
    found = (await session.execute(select(Pairing).where(*cond))).scalar_one_or_none()
    if found is None:
        try:
            async with session.begin_nested():
                found = Pairing(volunteer_id=volunteer_id, org_unit_id=org_unit_id, household_name=household_name,
                                household_phone=household_phone, active=True, created_at=now)
                session.add(found)
            return found, True
        except IntegrityError:
            found = (await session.execute(select(Pairing).where(*cond))).scalar_one()
    found.active = True
    if household_phone:
        found.household_phone = household_phone
    await session.flush()
    return found, False


async def end_pairing(*, session: AsyncSession, pairing_id: int) -> bool:
    """End a pairing; its visits stay on record."""
    result = await session.execute(update(Pairing).where(Pairing.id == pairing_id, Pairing.active.is_(True))
                                   .values(active=False).execution_options(synchronize_session=False))
    return rowcount(result) == 1


async def pairings_of(*, session: AsyncSession, volunteer_id: int) -> list[Pairing]:
    """A volunteer's active pairings, oldest first."""
    stmt = select(Pairing).where(Pairing.volunteer_id == volunteer_id, Pairing.active.is_(True)).order_by(Pairing.id)
    return list((await session.execute(stmt)).scalars())


async def pairings_under(*, session: AsyncSession, unit: OrgUnit, limit: int = 50) -> list[tuple[Pairing, Person]]:
    """Active pairings of households in a unit's subtree, with their volunteers."""
    stmt = (select(Pairing, Person).join(Person, Person.id == Pairing.volunteer_id)
            .join(OrgUnit, OrgUnit.id == Pairing.org_unit_id)
            .where(Pairing.active.is_(True), in_subtree(OrgUnit.path, unit.path))
            .order_by(Pairing.org_unit_id, Pairing.id).limit(limit))
    return [(p, v) for p, v in (await session.execute(stmt)).all()]


async def log_visit(
    *, session: AsyncSession, pairing_id: int, note: str, problems_solved: int, now: datetime
) -> PairingVisit:
    """Record a home visit (走访) with the number of problems solved."""
    if problems_solved < 0:
        raise ValueError("problems solved cannot be negative")
    visit = PairingVisit(pairing_id=pairing_id, visited_at=now, note=note, problems_solved=problems_solved)
    session.add(visit)
    await session.flush()
    return visit


async def monthly_counts(
    *, session: AsyncSession, pairing_ids: list[int], start: datetime, end: datetime
) -> dict[int, MonthCount]:
    """Visits and problems solved per pairing in [start, end); pairings with none count zero."""
    counts = {pid: MonthCount() for pid in pairing_ids}
    if not pairing_ids:
        return counts
    rows = await session.execute(
        select(PairingVisit.pairing_id, func.count(PairingVisit.id),
               func.coalesce(func.sum(PairingVisit.problems_solved), 0))
        .where(PairingVisit.pairing_id.in_(pairing_ids), PairingVisit.visited_at >= start,
               PairingVisit.visited_at < end)
        .group_by(PairingVisit.pairing_id))
    for pid, visits, solved in rows.all():
        counts[pid] = MonthCount(int(visits), int(solved))
    return counts
