"""Attendance at an activity (签到/签退) and the hours it earns: each step one conditional UPDATE.

Check-in needs the code shown on site, or a location within the activity's radius. Codes are
six digits, and a person who sends five wrong ones for an activity waits ten minutes before
the next code is even compared (`CheckinAttempt`) — a guesser gets nowhere; check-out
turns the time since check-in into hours, capped at the activity's length; the captain's
verification credits them to the hours ledger once (source "activity_signup", the sign-up's
id). No check-in by start + 30 min is a no-show, marked by an idempotent sweep the captain
can undo. Functions take the session as a keyword argument and leave committing to the caller.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.activities.activities import (
    CANCELLED,
    CENT,
    PLANNED,
    SIGNED,
    WAITLISTED,
    signup_of,
)
from storage.models.activities import Activity, ActivitySignup
from storage.models.trust import CheckinAttempt
from storage.sql import insert_ignoring, rowcount
from storage.tasks.hours import credit_hours

HOURS_SOURCE = "activity_signup"

# Check-in opens this long before the start (people arrive early to set up).
CHECKIN_OPENS_BEFORE = timedelta(hours=1)
# No check-in by start + this is a no-show (PRODUCT.md §4).
NO_SHOW_AFTER = timedelta(minutes=30)
DEFAULT_RADIUS_M = 500
# Wrong codes a person may send for one activity before waiting `LOCK_FOR` (issue 12).
MAX_WRONG_CODES = 5
LOCK_FOR = timedelta(minutes=10)

_LOCATION = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*[,，]\s*(-?\d+(?:\.\d+)?)\s*")



def parse_location(ref: str) -> tuple[float, float] | None:
    """A "lat,lon" location reference as numbers; None unless both are in range."""
    m = _LOCATION.fullmatch(ref or "")
    if not m:
        return None
    lat, lon = float(m.group(1)), float(m.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (lat, lon) points (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(min(1.0, math.sqrt(h)))


def length_hours(activity: Activity) -> Decimal:
    """The activity's length in hours: the cap on anyone's hours for it."""
    return _hours_between(activity.starts_at, activity.ends_at)


def _hours_between(start: datetime, end: datetime) -> Decimal:
    seconds = max(0.0, (end - start).total_seconds())
    return (Decimal(seconds) / Decimal(3600)).quantize(CENT, rounding=ROUND_HALF_UP)


class CheckResult(enum.Enum):
    """How a check-in or check-out ended."""

    ok = "ok"
    already = "already"
    not_signed = "not_signed"
    waitlisted = "waitlisted"
    too_early = "too_early"
    ended = "ended"
    closed = "closed"  # the activity was cancelled
    need_code = "need_code"
    wrong_code = "wrong_code"
    no_location = "no_location"  # the activity has no coordinates to compare with
    too_far = "too_far"
    not_checked_in = "not_checked_in"
    locked = "locked"  # too many wrong codes: wait until `locked_until`


@dataclass(frozen=True)
class CheckOutcome:
    """A check-in/out's result, the distance of a location check-in, the hours of a check-out.

    A wrong code says how many tries are `left` (0: the person now waits until `locked_until`).
    """

    result: CheckResult
    distance_m: float | None = None
    hours: Decimal | None = None
    left: int | None = None
    locked_until: datetime | None = None


async def _locked_until(session: AsyncSession, activity_id: int, volunteer_id: int, now: datetime) -> datetime | None:
    """Until when a person may not send codes for an activity, if they must still wait."""
    stmt = select(CheckinAttempt.locked_until).where(CheckinAttempt.activity_id == activity_id,
                                                     CheckinAttempt.volunteer_id == volunteer_id)
    until = (await session.execute(stmt)).scalar_one_or_none()
    return until if until is not None and until > now else None


async def _wrong_code(session: AsyncSession, activity_id: int, volunteer_id: int, now: datetime) -> CheckOutcome:
    """Count a wrong code; the fifth in a row locks the person out of this activity's codes for `LOCK_FOR`."""
    key = (CheckinAttempt.activity_id == activity_id, CheckinAttempt.volunteer_id == volunteer_id)
    await session.execute(insert_ignoring(session, CheckinAttempt).values(
        activity_id=activity_id, volunteer_id=volunteer_id, failures=0))
    await session.execute(update(CheckinAttempt).where(*key)
                          .values(failures=CheckinAttempt.failures + 1, last_at=now)
                          .execution_options(synchronize_session=False))
    failures = int((await session.execute(select(CheckinAttempt.failures).where(*key))).scalar_one())
    if failures < MAX_WRONG_CODES:
        return CheckOutcome(CheckResult.wrong_code, left=MAX_WRONG_CODES - failures)
    until = now + LOCK_FOR
    await session.execute(update(CheckinAttempt).where(*key).values(failures=0, locked_until=until)
                          .execution_options(synchronize_session=False))
    return CheckOutcome(CheckResult.wrong_code, left=0, locked_until=until)


async def _signup_and_activity(
    session: AsyncSession, activity_id: int, volunteer_id: int
) -> tuple[ActivitySignup | None, Activity | None]:
    activity = (await session.execute(
        select(Activity).where(Activity.id == activity_id).execution_options(populate_existing=True)
    )).scalar_one_or_none()
    signup = await signup_of(session=session, activity_id=activity_id, volunteer_id=volunteer_id)
    return signup, activity


async def check_in(
    *,
    session: AsyncSession,
    activity_id: int,
    volunteer_id: int,
    now: datetime,
    code: str | None = None,
    location: tuple[float, float] | None = None,
) -> CheckOutcome:
    """Check in (签到) with the code shown on site, or a location within the activity's radius.

    Open from an hour before the start to the end; a late arrival marked as a no-show
    is no longer one once they check in.
    """
    signup, activity = await _signup_and_activity(session, activity_id, volunteer_id)
    if activity is None or signup is None or signup.status == CANCELLED:
        return CheckOutcome(CheckResult.not_signed)
    if signup.status == WAITLISTED:
        return CheckOutcome(CheckResult.waitlisted)
    if activity.status != PLANNED:
        return CheckOutcome(CheckResult.closed)
    if now < activity.starts_at - CHECKIN_OPENS_BEFORE:
        return CheckOutcome(CheckResult.too_early)
    if now > activity.ends_at:
        return CheckOutcome(CheckResult.ended)
    if signup.checkin_at is not None:
        return CheckOutcome(CheckResult.already)
    distance = None
    if location is not None:
        if activity.latitude is None or activity.longitude is None:
            return CheckOutcome(CheckResult.no_location)
        distance = distance_m(location, (activity.latitude, activity.longitude))
        if distance > (activity.checkin_radius_m or DEFAULT_RADIUS_M):
            return CheckOutcome(CheckResult.too_far, distance_m=distance)
    elif not code:
        return CheckOutcome(CheckResult.need_code)
    elif (until := await _locked_until(session, activity_id, volunteer_id, now)) is not None:
        return CheckOutcome(CheckResult.locked, locked_until=until)
    elif code.strip().upper() != activity.checkin_code.upper():
        return await _wrong_code(session, activity_id, volunteer_id, now)
    result = await session.execute(
        update(ActivitySignup)
        .where(ActivitySignup.id == signup.id, ActivitySignup.status == SIGNED, ActivitySignup.checkin_at.is_(None))
        .values(checkin_at=now, no_show=False)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return CheckOutcome(CheckResult.already)
    return CheckOutcome(CheckResult.ok, distance_m=distance)


async def check_out(*, session: AsyncSession, activity_id: int, volunteer_id: int, now: datetime) -> CheckOutcome:
    """Check out (签退): hours = check-out − check-in, capped at the activity's length."""
    signup, activity = await _signup_and_activity(session, activity_id, volunteer_id)
    if activity is None or signup is None or signup.status == CANCELLED:
        return CheckOutcome(CheckResult.not_signed)
    if signup.status == WAITLISTED:
        return CheckOutcome(CheckResult.waitlisted)
    if signup.checkin_at is None:
        return CheckOutcome(CheckResult.not_checked_in)
    if signup.checkout_at is not None:
        return CheckOutcome(CheckResult.already, hours=signup.hours)
    hours = min(_hours_between(signup.checkin_at, now), length_hours(activity))
    result = await session.execute(
        update(ActivitySignup)
        .where(
            ActivitySignup.id == signup.id,
            ActivitySignup.checkin_at.is_not(None),
            ActivitySignup.checkout_at.is_(None),
            ActivitySignup.verified.is_(False),
        )
        .values(checkout_at=now, hours=hours)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return CheckOutcome(CheckResult.already, hours=signup.hours)
    return CheckOutcome(CheckResult.ok, hours=hours)


async def verify_hours(
    *, session: AsyncSession, signup_id: int, hours: Decimal, by_id: int | None, now: datetime
) -> bool:
    """Verify (or correct and verify) one sign-up's hours and credit them to the ledger, once.

    False when it was verified already, is not a signed place, is a no-show, or `hours` is
    not positive. The ledger entry's source is ("activity_signup", signup id).
    """
    hours = Decimal(hours).quantize(CENT, rounding=ROUND_HALF_UP)
    if hours <= 0:
        return False
    result = await session.execute(
        update(ActivitySignup)
        .where(
            ActivitySignup.id == signup_id,
            ActivitySignup.status == SIGNED,
            ActivitySignup.verified.is_(False),
            ActivitySignup.no_show.is_(False),
        )
        .values(hours=hours, verified=True, verified_by_id=by_id, verified_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return False
    row = (await session.execute(
        select(ActivitySignup.volunteer_id, Activity.title)
        .join(Activity, Activity.id == ActivitySignup.activity_id)
        .where(ActivitySignup.id == signup_id)
    )).one()
    await credit_hours(session=session, volunteer_id=row.volunteer_id, hours=hours, source_type=HOURS_SOURCE,
                       source_id=signup_id, now=now, note=row.title[:200])
    return True


async def mark_no_shows(
    *, session: AsyncSession, now: datetime, after: timedelta = NO_SHOW_AFTER
) -> list[tuple[int, int]]:
    """Mark signed volunteers with no check-in by start + `after` as no-shows; safe to run twice.

    Returns the (activity_id, volunteer_id) pairs marked by this call. A no-show the captain
    undid is never marked again.
    """
    due = (await session.execute(
        select(ActivitySignup.id, ActivitySignup.activity_id, ActivitySignup.volunteer_id)
        .join(Activity, Activity.id == ActivitySignup.activity_id)
        .where(
            Activity.status == PLANNED,
            Activity.starts_at <= now - after,
            ActivitySignup.status == SIGNED,
            ActivitySignup.checkin_at.is_(None),
            ActivitySignup.no_show.is_(False),
            ActivitySignup.no_show_undone.is_(False),
            ActivitySignup.verified.is_(False),
        )
        .order_by(ActivitySignup.activity_id, ActivitySignup.seq)
    )).all()
    marked = []
    for row in due:
        result = await session.execute(
            update(ActivitySignup)
            .where(
                ActivitySignup.id == row.id,
                ActivitySignup.status == SIGNED,
                ActivitySignup.checkin_at.is_(None),
                ActivitySignup.no_show.is_(False),
                ActivitySignup.no_show_undone.is_(False),
                ActivitySignup.verified.is_(False),
            )
            .values(no_show=True)
            .execution_options(synchronize_session=False)
        )
        if rowcount(result) == 1:
            marked.append((row.activity_id, row.volunteer_id))
    return marked


async def undo_no_show(*, session: AsyncSession, activity_id: int, volunteer_id: int) -> bool:
    """Clear a no-show (the captain knows they came); it stays cleared."""
    result = await session.execute(
        update(ActivitySignup)
        .where(
            ActivitySignup.activity_id == activity_id,
            ActivitySignup.volunteer_id == volunteer_id,
            ActivitySignup.status == SIGNED,
            ActivitySignup.no_show.is_(True),
        )
        .values(no_show=False, no_show_undone=True)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1
