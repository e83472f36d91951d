"""One run of the jobs: the instant it runs as, the region's time zone, the leader's fence, and notes;
and opening the firing of a job that runs at a fixed time for the whole network."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.scheduling.fanout import open_firing
from storage.scheduling.leases import Fence, check_fence
from storage.scheduling.recurrence import Recurrence, period_of
from storage.scheduling.rules import fired_scopes


@dataclass
class JobRun:
    """Everything a job needs to know about the run it is part of."""

    now: datetime
    tz: tzinfo
    # None: single-process mode or `xinfeng jobs run` — the sent-log alone prevents repeats.
    fence: Fence | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)

    def note(self, job: str, text: str) -> None:
        """Record what a job did, for `xinfeng jobs run` to print."""
        self.notes.append((job, text))


async def guard(session: AsyncSession, fence: Fence | None) -> None:
    """Check the fencing token first thing in a transaction that writes what the scheduler owes."""
    if fence is not None:
        await check_fence(session, fence)


async def open_fixed_firing(sessions: async_sessionmaker[AsyncSession], session: AsyncSession, job: str,
                            rule: Recurrence, grace: timedelta, run: JobRun) -> tuple[int, datetime] | None:
    """Open this period's network-wide firing of a fixed-time job in `session`, if it is owed.

    Owed: its latest occurrence fell due no more than `grace` ago and nobody fired it yet.
    Returns the firing id and the occurrence, or None.
    """
    due = rule.latest_due(run.now, run.tz)
    if run.now - due > grace:
        return None
    period = period_of(due, run.tz)
    async with sessions() as reader:
        if (period, "all") in await fired_scopes(reader, job, [period]):
            return None
    await guard(session, run.fence)
    fid = await open_firing(session, job=job, period=period, scope="all", due_at=due, now=run.now,
                            fence_token=run.fence.token if run.fence else None)
    return None if fid is None else (fid, due)
