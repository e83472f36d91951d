"""What the scheduler will do next (`xinfeng jobs list`): every job's upcoming and overdue firings."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from scheduler.job import Firing
from scheduler.runner import JOBS
from storage.db import Session

__all__ = ["Firing", "upcoming"]


async def upcoming(session: Session, now: datetime, tz: tzinfo, days: int = 35) -> list[Firing]:
    """Every firing from `now` to `now + days`, plus what is owed already, soonest first."""
    end = now + timedelta(days=days)
    found: list[Firing] = []
    for job in JOBS.values():
        found.extend(await job.ahead(session, now, end, tz))
    return sorted(found, key=lambda f: (f.at, f.job))
