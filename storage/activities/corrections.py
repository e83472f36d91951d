"""Correcting hours already verified (核时 again): a ledger row for the difference, and points that follow.

Nothing credited is ever edited. The sign-up's hours move by one conditional UPDATE (from the
value the captain saw, so two racing corrections cannot both apply), a `HoursCorrection`
records from, to, by whom and when, and the hours ledger gets the difference as a row of its
own. Points follow at the rate of the day: more hours add points; fewer take them back — but a
balance never goes below zero, so points already spent cannot all be taken back. What could
not be is still owed *by that service*: the next correction of the same sign-up settles it
first (an upward one pays only what exceeds it, a downward one takes it along). Points are
never chased from the volunteer's other earnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.activities.activities import CENT, SIGNED
from storage.models import HoursEntry
from storage.models.activities import Activity, ActivitySignup, HoursCorrection
from storage.models.points import PointsEntry
from storage.programmes.points import HOURS_CORRECTION, adjust, rate_for
from storage.sql import rowcount
from storage.tasks.hours import record_correction


@dataclass(frozen=True)
class Corrected:
    """A correction made: the hours before and after, and how the points followed."""

    before: Decimal
    after: Decimal
    # What the difference is worth at today's rate (negative: points to take back).
    points_due: Decimal
    # How far the balance actually moved (a take-back stops at zero).
    points_applied: Decimal
    # Points this service still owes back after this correction (0 when all settled).
    points_owed: Decimal
    balance: Decimal


async def _owed_by(session: AsyncSession, signup_id: int, volunteer_id: int) -> Decimal:
    """Points earlier corrections of a sign-up meant to take back but could not (≥ 0)."""
    applied = (
        select(HoursEntry.source_id.label("correction_id"), func.coalesce(func.sum(PointsEntry.delta), 0).label("d"))
        .outerjoin(PointsEntry, and_(PointsEntry.source_type == "hours", PointsEntry.source_id == HoursEntry.id,
                                     PointsEntry.person_id == volunteer_id))
        .where(HoursEntry.source_type == HOURS_CORRECTION, HoursEntry.volunteer_id == volunteer_id)
        .group_by(HoursEntry.source_id)
        .subquery()
    )
    meant, moved = (await session.execute(
        select(func.coalesce(func.sum(HoursCorrection.points), 0), func.coalesce(func.sum(applied.c.d), 0))
        .outerjoin(applied, applied.c.correction_id == HoursCorrection.id)
        .where(HoursCorrection.signup_id == signup_id)
    )).one()
    return max(Decimal(0), (Decimal(moved) - Decimal(meant)).quantize(CENT))


async def correct_hours(
    *, session: AsyncSession, signup_id: int, before: Decimal, hours: Decimal, by_id: int | None, now: datetime
) -> Corrected | None:
    """Correct a verified sign-up's hours from `before` to `hours`; None if they are not `before` any more.

    `before` is what the captain corrected (read in the same transaction): a correction made
    meanwhile by someone else wins, and this one changes nothing.
    """
    before = Decimal(before).quantize(CENT, rounding=ROUND_HALF_UP)
    hours = Decimal(hours).quantize(CENT, rounding=ROUND_HALF_UP)
    if hours < 0 or hours == before:
        raise ValueError("a correction changes verified hours to another amount, not below zero")
    result = await session.execute(
        update(ActivitySignup)
        .where(ActivitySignup.id == signup_id, ActivitySignup.status == SIGNED, ActivitySignup.verified.is_(True),
               ActivitySignup.hours == before)
        .values(hours=hours)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return None
    volunteer_id, title = (await session.execute(
        select(ActivitySignup.volunteer_id, Activity.title)
        .join(Activity, Activity.id == ActivitySignup.activity_id).where(ActivitySignup.id == signup_id)
    )).one()
    owed = await _owed_by(session, signup_id, volunteer_id)
    due = ((hours - before) * await rate_for(session=session, person_id=volunteer_id)).quantize(CENT)
    correction = HoursCorrection(signup_id=signup_id, from_hours=before, to_hours=hours, points=due,
                                 corrected_by_id=by_id, corrected_at=now)
    session.add(correction)
    await session.flush()
    entry = await record_correction(session=session, volunteer_id=volunteer_id, difference=hours - before,
                                    correction_id=correction.id, now=now, note=f"更正 {before}→{hours}：{title}"[:200])
    wanted = due - owed
    applied, balance = await adjust(session=session, person_id=volunteer_id, wanted=wanted, source_type="hours",
                                    source_id=entry.id, now=now)
    return Corrected(before, hours, due, applied.quantize(CENT), max(Decimal(0), applied - wanted).quantize(CENT),
                     Decimal(balance).quantize(CENT))
