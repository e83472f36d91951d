"""The service-hours ledger (志愿时长): one entry per volunteer per source, credited once.

The ledger is never edited. A correction of hours already credited is a row of its own
holding the difference (negative when the hours went down), from the correction that made it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import HoursEntry
from storage.programmes.points import HOURS_CORRECTION, award_for_hours


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


async def record_correction(
    *,
    session: AsyncSession,
    volunteer_id: int,
    difference: Decimal,
    correction_id: int,
    now: datetime,
    note: str | None = None,
) -> HoursEntry:
    """Write a correction's difference to the ledger as a row of its own; points are the caller's to settle.

    The correction row (`HoursCorrection`) is new, so its id is a source never credited before.
    """
    entry = HoursEntry(volunteer_id=volunteer_id, hours=difference, source_type=HOURS_CORRECTION,
                       source_id=correction_id, credited_at=now, note=note)
    session.add(entry)
    await session.flush()
    return entry


async def total_hours(*, session: AsyncSession, volunteer_id: int) -> tuple[Decimal, int]:
    """A volunteer's verified hours (corrections included) and the number of services they came from."""
    services = case((HoursEntry.source_type == HOURS_CORRECTION, None), else_=HoursEntry.id)
    total, count = (await session.execute(
        select(func.coalesce(func.sum(HoursEntry.hours), 0), func.count(services))
        .where(HoursEntry.volunteer_id == volunteer_id)
    )).one()
    return Decimal(total), int(count)
