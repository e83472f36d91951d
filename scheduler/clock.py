"""APScheduler as the clock only: one interval tick that runs the due jobs and the relay."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduler.jobs import run_due
from storage.clock import Clock


def start_ticking(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    after_tick: Callable[[], Awaitable[object]] | None = None,
    seconds: int = 60,
) -> AsyncIOScheduler:
    """Start a scheduler that runs the due jobs every `seconds` (coalesced, never overlapping)."""

    async def tick() -> None:
        await run_due(sessions, clock.now())
        if after_tick is not None:
            await after_tick()

    scheduler = AsyncIOScheduler()
    scheduler.add_job(tick, "interval", seconds=seconds, coalesce=True, max_instances=1,
                      misfire_grace_time=3600, id="xinfeng-tick")
    scheduler.start()
    return scheduler
