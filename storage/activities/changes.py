"""Cancelling an activity (取消活动) or moving it (改期): each one conditional UPDATE of the activity row.

Only a planned activity that has not started can change: the UPDATE says so in its WHERE, so a
change racing the start, a cancellation or another move finds nothing to change. The row lock
it takes (PostgreSQL; SQLite's writers queue) also serialises it with sign-ups, which lock the
same row. Sign-ups stay as they are — who had signed up for a cancelled activity is history,
and a moved activity keeps its places and its waitlist — except that a check-in made for the old
time is cleared. Reminders need nothing: their sent-log period names the start time, so a moved
activity is reminded afresh for its new time, and a cancelled one is not planned any more.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.activities.activities import CANCELLED, PLANNED
from storage.models.activities import Activity, ActivitySignup
from storage.sql import rowcount


async def cancel_activity(*, session: AsyncSession, activity: Activity, now: datetime) -> bool:
    """Cancel a planned activity that has not started; False if it is no longer open to change.

    Either way `activity` is refreshed to the row as it now stands.
    """
    result = await session.execute(
        update(Activity)
        .where(Activity.id == activity.id, Activity.status == PLANNED, Activity.starts_at > now)
        .values(status=CANCELLED)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(activity)  # as it is now, whether this call changed it or found it changed
    return rowcount(result) == 1


async def move_activity(
    *, session: AsyncSession, activity: Activity, was: datetime, starts_at: datetime, ends_at: datetime,
    now: datetime,
) -> bool:
    """Move a planned activity that has not started (and still starts at `was`) to a new time.

    False when it started, was cancelled, or was moved by someone else meanwhile. Check-ins
    made in the hour before the old start are cleared: they were for a time that is gone.
    Either way `activity` is refreshed to the row as it now stands.
    """
    if ends_at <= starts_at or starts_at <= now:
        raise ValueError("an activity moves to a future time, and ends after it starts")
    result = await session.execute(
        update(Activity)
        .where(Activity.id == activity.id, Activity.status == PLANNED, Activity.starts_at == was,
               Activity.starts_at > now)
        .values(starts_at=starts_at, ends_at=ends_at)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        await session.refresh(activity)  # as someone else left it
        return False
    await session.execute(
        update(ActivitySignup)
        .where(ActivitySignup.activity_id == activity.id, ActivitySignup.verified.is_(False),
               ActivitySignup.checkin_at.is_not(None))
        .values(checkin_at=None, checkout_at=None, hours=None)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(activity)
    return True
