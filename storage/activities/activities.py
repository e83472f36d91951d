"""Activity operations (活动): creating, listing, signing up and the waitlist — each atomic.

Sign-ups and cancellations of one activity are serialised by a conditional UPDATE of the
activity row (`signup_seq = signup_seq + 1 WHERE status = 'planned' AND starts_at > now`):
it row-locks on PostgreSQL until commit, and on SQLite every writer already queues
(BEGIN IMMEDIATE). Under that lock the places are counted and the sign-up row written, so
100 simultaneous sign-ups for 20 places give exactly 20 signed and 80 waitlisted, in the
order they took the lock. Attendance and hours are in `storage.activities.attendance`.

Functions take the session as a keyword argument and leave committing to the caller, so
the change, its audit row and its messages commit together.
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OrgUnit, Person
from storage.models.activities import Activity, ActivitySignup
from storage.people.network import in_subtree
from storage.sql import rowcount

SIGNED, WAITLISTED, CANCELLED = "signed", "waitlisted", "cancelled"
PLANNED = "planned"
CENT = Decimal("0.01")



def new_checkin_code() -> str:
    """A six-digit check-in code: easy to read out on site and to type on any phone, too many to guess.

    Four digits fell to 60 guesses in 1.5 s (issue 12); six, with five wrong tries per person
    before a ten-minute wait (`storage.activities.attendance`), leave a guesser no chance.
    """
    return f"{secrets.randbelow(10**6):06d}"


# ---------------------------------------------------------------- creating and listing


async def create_activity(
    *,
    session: AsyncSession,
    team_id: int,
    org_unit_id: int,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    created_by_id: int | None,
    place: str | None = None,
    capacity: int | None = None,
    project_id: int | None = None,
    location: tuple[float, float] | None = None,
    checkin_radius_m: int | None = None,
) -> Activity:
    """Create a planned activity with a fresh check-in code."""
    if ends_at <= starts_at:
        raise ValueError("an activity must end after it starts")
    if capacity is not None and capacity < 1:
        raise ValueError("capacity must be at least 1")
    activity = Activity(
        team_id=team_id,
        org_unit_id=org_unit_id,
        project_id=project_id,
        title=title,
        place=place,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        checkin_code=new_checkin_code(),
        status=PLANNED,
        created_by_id=created_by_id,
        created_at=now,
        signup_seq=0,
        latitude=location[0] if location else None,
        longitude=location[1] if location else None,
        checkin_radius_m=checkin_radius_m,
        beneficiaries=0,
    )
    session.add(activity)
    await session.flush()
    return activity


async def planned_activities(
    session: AsyncSession, unit: OrgUnit, day_start: datetime, day_end: datetime
) -> list[Activity]:
    """Planned activities starting in [day_start, day_end) anywhere in `unit`'s subtree, by start."""
    stmt = (
        select(Activity)
        .join(OrgUnit, OrgUnit.id == Activity.org_unit_id)
        .where(
            in_subtree(OrgUnit.path, unit.path),
            Activity.status == PLANNED,
            Activity.starts_at >= day_start,
            Activity.starts_at < day_end,
        )
        .order_by(Activity.starts_at, Activity.id)
    )
    return list((await session.execute(stmt)).scalars().all())


async def upcoming_for_teams(
    *, session: AsyncSession, team_ids: list[int], now: datetime, limit: int = 10
) -> list[Activity]:
    """Planned activities of these teams that have not ended yet, soonest first."""
    if not team_ids:
        return []
    stmt = (
        select(Activity)
        .where(Activity.team_id.in_(team_ids), Activity.status == PLANNED, Activity.ends_at > now)
        .order_by(Activity.starts_at, Activity.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars().all())


async def place_counts(*, session: AsyncSession, activity_id: int) -> tuple[int, int]:
    """(signed, waitlisted) for an activity."""
    rows = dict((await session.execute(
        select(ActivitySignup.status, func.count())
        .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status.in_([SIGNED, WAITLISTED]))
        .group_by(ActivitySignup.status)
    )).all())
    return int(rows.get(SIGNED, 0)), int(rows.get(WAITLISTED, 0))


async def roster(*, session: AsyncSession, activity_id: int) -> list[tuple[ActivitySignup, Person]]:
    """Signed volunteers then the waitlist, each in arrival order, with their people."""
    stmt = (
        select(ActivitySignup, Person)
        .join(Person, Person.id == ActivitySignup.volunteer_id)
        .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status.in_([SIGNED, WAITLISTED]))
        .order_by(ActivitySignup.status != SIGNED, ActivitySignup.seq, ActivitySignup.id)
        .execution_options(populate_existing=True)
    )
    return [(s, p) for s, p in (await session.execute(stmt)).all()]


async def signup_of(*, session: AsyncSession, activity_id: int, volunteer_id: int) -> ActivitySignup | None:
    """A volunteer's sign-up row for an activity (any status), freshly read."""
    stmt = (
        select(ActivitySignup)
        .where(ActivitySignup.activity_id == activity_id, ActivitySignup.volunteer_id == volunteer_id)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def waitlist_position(*, session: AsyncSession, activity_id: int, volunteer_id: int) -> int | None:
    """1 for the first in the waitlist; None if the volunteer is not waitlisted."""
    mine = (await session.execute(
        select(ActivitySignup.seq).where(
            ActivitySignup.activity_id == activity_id,
            ActivitySignup.volunteer_id == volunteer_id,
            ActivitySignup.status == WAITLISTED,
        )
    )).scalar_one_or_none()
    if mine is None:
        return None
    ahead = (await session.execute(
        select(func.count()).where(
            ActivitySignup.activity_id == activity_id,
            ActivitySignup.status == WAITLISTED,
            ActivitySignup.seq < mine,
        )
    )).scalar_one()
    return int(ahead) + 1


# ---------------------------------------------------------------- sign-up and cancellation


class SignupResult(enum.Enum):
    """How a sign-up ended."""

    signed = "signed"
    waitlisted = "waitlisted"
    already = "already"  # already signed or waitlisted; `position` says where
    closed = "closed"  # cancelled, finished or already started


@dataclass(frozen=True)
class SignupOutcome:
    """A sign-up's result and, when waitlisted, the place in the waitlist (1 = next)."""

    result: SignupResult
    position: int | None = None
    signed_before: bool = False  # for `already`: whether the existing place is a signed one


async def _lock_open(session: AsyncSession, activity_id: int, now: datetime) -> int | None:
    """Take the activity's sign-up lock if it is open for sign-ups; its new sequence value."""
    result = await session.execute(
        update(Activity)
        .where(Activity.id == activity_id, Activity.status == PLANNED, Activity.starts_at > now)
        .values(signup_seq=Activity.signup_seq + 1)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return None
    return int((await session.execute(select(Activity.signup_seq).where(Activity.id == activity_id))).scalar_one())


async def sign_up(*, session: AsyncSession, activity_id: int, volunteer_id: int, now: datetime) -> SignupOutcome:
    """Take a place (报名), or the next place in the waitlist when all are taken; never twice."""
    try:
        async with session.begin_nested():
            seq = await _lock_open(session, activity_id, now)
            if seq is None:
                return SignupOutcome(SignupResult.closed)
            existing = (await session.execute(
                select(ActivitySignup.id, ActivitySignup.status).where(
                    ActivitySignup.activity_id == activity_id, ActivitySignup.volunteer_id == volunteer_id)
            )).one_or_none()
            if existing is not None and existing.status in (SIGNED, WAITLISTED):
                position = await waitlist_position(session=session, activity_id=activity_id, volunteer_id=volunteer_id)
                return SignupOutcome(SignupResult.already, position, signed_before=existing.status == SIGNED)
            capacity = (await session.execute(select(Activity.capacity).where(Activity.id == activity_id))).scalar_one()
            signed, _ = await place_counts(session=session, activity_id=activity_id)
            status = SIGNED if capacity is None or signed < capacity else WAITLISTED
            fresh = {
                "status": status, "seq": seq, "signed_at": now, "cancelled_at": None, "checkin_at": None,
                "checkout_at": None, "hours": None, "verified": False, "verified_by_id": None,
                "verified_at": None, "no_show": False, "no_show_undone": False,
            }
            if existing is not None:  # signing up again after cancelling: back of the queue
                await session.execute(
                    update(ActivitySignup)
                    .where(ActivitySignup.id == existing.id, ActivitySignup.status == CANCELLED)
                    .values(**fresh)
                    .execution_options(synchronize_session=False)
                )
            else:
                session.add(ActivitySignup(activity_id=activity_id, volunteer_id=volunteer_id, **fresh))
                await session.flush()
    except IntegrityError:
        # Only a writer that skipped the lock could get here; the unique key still holds.
        return SignupOutcome(SignupResult.already)
    if status == SIGNED:
        return SignupOutcome(SignupResult.signed)
    position = await waitlist_position(session=session, activity_id=activity_id, volunteer_id=volunteer_id)
    return SignupOutcome(SignupResult.waitlisted, position)


class CancelResult(enum.Enum):
    """How a cancellation ended."""

    cancelled = "cancelled"  # gave up a signed place
    left_waitlist = "left_waitlist"
    not_signed = "not_signed"
    closed = "closed"  # the activity started, finished or was cancelled


@dataclass(frozen=True)
class CancelOutcome:
    """A cancellation's result and who, if anyone, was promoted from the waitlist."""

    result: CancelResult
    promoted_volunteer_id: int | None = None


async def cancel_signup(
    *, session: AsyncSession, activity_id: int, volunteer_id: int, now: datetime
) -> CancelOutcome:
    """Give up a place (取消报名); the first in the waitlist takes it, in the same transaction."""
    async with session.begin_nested():
        if await _lock_open(session, activity_id, now) is None:
            return CancelOutcome(CancelResult.closed)
        row = (await session.execute(
            select(ActivitySignup.id, ActivitySignup.status).where(
                ActivitySignup.activity_id == activity_id, ActivitySignup.volunteer_id == volunteer_id)
        )).one_or_none()
        if row is None or row.status not in (SIGNED, WAITLISTED):
            return CancelOutcome(CancelResult.not_signed)
        await session.execute(
            update(ActivitySignup)
            .where(ActivitySignup.id == row.id, ActivitySignup.status == row.status)
            .values(status=CANCELLED, cancelled_at=now)
            .execution_options(synchronize_session=False)
        )
        if row.status == WAITLISTED:
            return CancelOutcome(CancelResult.left_waitlist)
        first = (await session.execute(
            select(ActivitySignup.id, ActivitySignup.volunteer_id)
            .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status == WAITLISTED)
            .order_by(ActivitySignup.seq, ActivitySignup.id)
            .limit(1)
        )).one_or_none()
        if first is None:
            return CancelOutcome(CancelResult.cancelled)
        await session.execute(
            update(ActivitySignup)
            .where(ActivitySignup.id == first.id, ActivitySignup.status == WAITLISTED)
            .values(status=SIGNED)
            .execution_options(synchronize_session=False)
        )
        return CancelOutcome(CancelResult.cancelled, promoted_volunteer_id=first.volunteer_id)


async def record_beneficiaries(*, session: AsyncSession, activity_id: int, count: int) -> bool:
    """Set how many people an activity served (受益人数)."""
    if count < 0:
        return False
    result = await session.execute(
        update(Activity).where(Activity.id == activity_id).values(beneficiaries=count)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1
