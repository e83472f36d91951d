"""Auto-confirmation: a completed task nobody rated within 72 hours is confirmed and credited.

The job only finds what is due; `handlers.tasks.actions.auto_confirm` does the confirming.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from handlers.core.act import Act
from handlers.tasks.actions import DEFAULT_TZ, auto_confirm
from handlers.tasks.outcomes import Confirmed
from storage.db import Session
from storage.tasks.queries import tasks_completed_before

CONFIRM_AFTER = timedelta(hours=72)


async def auto_confirm_due(session: Session, now: datetime, after: timedelta = CONFIRM_AFTER,
                           *, tz: tzinfo = DEFAULT_TZ) -> int:
    """Confirm every completed task older than `after`; safe to run any number of times."""
    act = Act(session=session, now=now, tz=tz)
    confirmed = 0
    for task in await tasks_completed_before(session, now - after):
        if isinstance(await auto_confirm(act, task), Confirmed):
            confirmed += 1
    return confirmed
