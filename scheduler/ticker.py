"""APScheduler as the clock only: a heartbeat that holds the leader lease, and a tick that runs the jobs.

The jobs decide from the database what is owed, so a missed tick loses nothing: the next one
(at start-up, immediately) sends what fell due meanwhile, once. APScheduler's own coalescing
and misfire grace only keep it from replaying missed ticks one by one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduler.runner import DEFAULT_TZ, run_due
from scheduler.lease import HEARTBEAT, Lease
from storage.clock import Clock
from storage.db import Sessions
from storage.scheduling.leases import Fence, FencedOut
from storage.messaging.retention import DEFAULT_DAYS as DEFAULT_RETENTION_DAYS

log = logging.getLogger(__name__)


class Scheduler:
    """Runs the jobs while this process leads (always, in single-process mode with no lease)."""

    def __init__(self, sessions: Sessions, clock: Clock, *, tz: tzinfo = DEFAULT_TZ,
                 lease: Lease | None = None, retention_days: int = DEFAULT_RETENTION_DAYS) -> None:
        self.sessions = sessions
        self.clock = clock
        self.tz = tz
        self.retention_days = retention_days
        self.lease = lease
        self.fence: Fence | None = None
        # The tick and the heartbeat job may both hold the lease at once: one at a time.
        self._holding = asyncio.Lock()
        self.ticking = asyncio.Lock()
        self.stopped = False

    @property
    def leading(self) -> bool:
        """Whether this process may run the jobs now."""
        return self.lease is None or self.fence is not None

    async def heartbeat(self) -> bool:
        """Acquire or renew the lease; True while leading."""
        if self.lease is not None:
            async with self._holding:
                try:
                    self.fence = await self.lease.hold(self.clock.now())
                except Exception:  # Redis or the database hiccuped: stand by until the next heartbeat
                    log.exception("scheduler heartbeat failed")
                    self.fence = None
        return self.leading

    async def tick(self) -> dict[str, int] | None:
        """Hold the lease, then run every job as of now; None when another process leads."""
        if not await self.heartbeat():
            return None
        try:
            return await run_due(self.sessions, self.clock.now(), tz=self.tz, fence=self.fence,
                                 retention_days=self.retention_days)
        except FencedOut:
            log.warning("scheduler deposed mid-run; standing by")
            self.fence = None
            return None

    async def stop(self) -> None:
        """Release the lease so a standby takes over at once."""
        if self.lease is not None and self.fence is not None:
            try:
                await self.lease.release()
            finally:
                self.fence = None


def start_ticking(
    sessions: Sessions,
    clock: Clock,
    after_tick: Callable[[], Awaitable[object]] | None = None,
    seconds: int = 60,
    *,
    tz: tzinfo = DEFAULT_TZ,
    lease: Lease | None = None,
    retention_days: int = DEFAULT_RETENTION_DAYS,
) -> AsyncIOScheduler:
    """Start the heartbeat and the tick; the first tick runs at once, to catch up after a restart."""
    sched = Scheduler(sessions, clock, tz=tz, lease=lease, retention_days=retention_days)

    async def tick() -> None:
        # Held for the whole tick, so stopping waits for a tick in flight instead of pulling the
        # database from under it.
        async with sched.ticking:
            if sched.stopped:  # a tick that was already queued when the clock stopped
                return
            await sched.tick()
            if after_tick is not None:
                await after_tick()

    aps = AsyncIOScheduler()
    first = datetime.now(tz)
    aps.add_job(tick, "interval", seconds=seconds, coalesce=True, max_instances=1,
                misfire_grace_time=3600, id="xinfeng-tick", next_run_time=first)
    if lease is not None:
        aps.add_job(sched.heartbeat, "interval", seconds=int(HEARTBEAT.total_seconds()), coalesce=True,
                    max_instances=1, misfire_grace_time=30, id="xinfeng-lease")
    aps.start()
    aps.xinfeng_scheduler = sched  # type: ignore[attr-defined]
    return aps


async def stop_ticking(aps: AsyncIOScheduler) -> None:
    """Stop the clock and hand the lease back, so a standby takes over at its next heartbeat."""
    sched: Scheduler | None = getattr(aps, "xinfeng_scheduler", None)
    if sched is not None:
        sched.stopped = True
        # APScheduler's shutdown cancels a coroutine job in flight: let it finish first.
        async with sched.ticking:
            aps.shutdown(wait=False)
        try:
            await sched.stop()
        except Exception:  # shutting down: the lease will expire by itself
            log.exception("could not release the scheduler lease")
    else:
        aps.shutdown(wait=False)
