"""The service-hours ledger (志愿时长): one entry per volunteer per source, credited once."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import HoursEntry
from storage.programmes.points import award_for_hours


async def credit_hours(
    *,
    session: AsyncSession,
    volunteer_id: int,
    hours: Decimal,
    source_type: str,
    source_id: int,
    now: datetime,
    note: str | None = None,
) -> HoursEntry | None:
    """Credit verified hours for one source (a task, an activity); None if already credited.

    Every place that credits hours goes through here, so whatever follows from hours
    (points, aggregates) follows from exactly one ledger row.
    """
    entry = HoursEntry(volunteer_id=volunteer_id, hours=hours, source_type=source_type, source_id=source_id,
                       credited_at=now, note=note)
    try:
        async with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        return None
    await award_for_hours(session=session, entry=entry)
    return entry


async def total_hours(*, session: AsyncSession, volunteer_id: int) -> tuple[Decimal, int]:
    """A volunteer's verified hours and the number of services they came from."""
    total, count = (await session.execute(
        select(func.coalesce(func.sum(HoursEntry.hours), 0), func.count(HoursEntry.id))
        .where(HoursEntry.volunteer_id == volunteer_id)
    )).one()
    return Decimal(total), int(count)
