"""The service-hours ledger (志愿时长): one entry per volunteer per source, credited once; the daily cap.

The ledger is never edited. A correction of hours already credited is a row of its own
holding the difference (negative when the hours went down), from the correction that made it.

Nobody serves more than a day holds: the hours a volunteer claims for one day — tasks reported
done that day, activities checked in that day — are capped (`daily_hours_cap`, 12 by default,
`XINFENG_DAILY_HOURS_CAP`). Going over it takes a captain's or an admin's explicit word, which
is audited (issue 12: a volunteer once reported 24 h on a task she had ordered herself).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal

from sqlalchemy import case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import HoursEntry, Task, TaskAssignment, TaskStatus
from storage.models.activities import Activity, ActivitySignup
from storage.programmes.points import HOURS_CORRECTION, award_for_hours

# The hours one volunteer may claim for one day without a captain's or admin's explicit word, unless
# the operator sets another (`XINFENG_DAILY_HOURS_CAP`): it reaches the actions on their `Act`.
DEFAULT_DAILY_CAP = Decimal(12)


async def hours_served_between(
    session: AsyncSession, *, volunteer_id: int, start: datetime, end: datetime,
    excluding_task_id: int | None = None, excluding_signup_id: int | None = None,
) -> Decimal:
    """The hours a volunteer claimed for services in [start, end): tasks reported done, activities checked in.

    A task counts from its report (credited or still awaiting the villager's rating); an activity
    from its check-in (or start, when the captain gave hours to someone never checked in), with the
    hours checked out or verified. The service being judged is left out by its id.
    """
    task_hours = (
        select(func.coalesce(func.sum(Task.hours), 0))
        .join(TaskAssignment, TaskAssignment.task_id == Task.id)
        .where(TaskAssignment.volunteer_id == volunteer_id, TaskAssignment.active.is_(True),
               Task.status.in_([TaskStatus.completed.value, TaskStatus.closed.value]),
               Task.completed_at >= start, Task.completed_at < end)
    )
    if excluding_task_id is not None:
        task_hours = task_hours.where(Task.id != excluding_task_id)
    attended = func.coalesce(ActivitySignup.checkin_at, Activity.starts_at)
    activity_hours = (
        select(func.coalesce(func.sum(ActivitySignup.hours), 0))
        .join(Activity, Activity.id == ActivitySignup.activity_id)
        .where(ActivitySignup.volunteer_id == volunteer_id, ActivitySignup.status == "signed",
               ActivitySignup.hours.is_not(None), or_(ActivitySignup.verified.is_(True),
                                                      ActivitySignup.checkout_at.is_not(None)),
               attended >= start, attended < end)
    )
    if excluding_signup_id is not None:
        activity_hours = activity_hours.where(ActivitySignup.id != excluding_signup_id)
    tasks = Decimal((await session.execute(task_hours)).scalar_one() or 0)
    activities = Decimal((await session.execute(activity_hours)).scalar_one() or 0)
    return tasks + activities


def local_day(at: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """The day (midnight to midnight in the region's zone) an instant falls in, as UTC instants."""
    local = at.astimezone(tz)
    start = datetime(local.year, local.month, local.day, tzinfo=tz)
    end = datetime.combine(start.date() + timedelta(days=1), time(), tzinfo=tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


async def hours_on_day(session: AsyncSession, *, volunteer_id: int, at: datetime, tz: tzinfo,
                       excluding_task_id: int | None = None, excluding_signup_id: int | None = None) -> Decimal:
    """The hours a volunteer claimed for the local day of `at` (see `hours_served_between`)."""
    start, end = local_day(at, tz)
    return await hours_served_between(session, volunteer_id=volunteer_id, start=start, end=end,
                                      excluding_task_id=excluding_task_id, excluding_signup_id=excluding_signup_id)


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
