"""The APScheduler clock: the first tick runs at start-up (catch-up after a restart), and stopping hands the lease back."""

from __future__ import annotations

import asyncio

from scheduler.lease import DbLease
from scheduler.ticker import start_ticking, stop_ticking
from storage.scheduling.leases import lease_state


async def test_first_tick_at_start_then_the_lease_is_released_on_stop(world) -> None:
    w = world
    w.clock.set(w.at(12, 5, 8, 30))  # the bot starts half an hour after the moral day fell due
    ticked = asyncio.Event()

    async def after_tick() -> None:
        ticked.set()

    lease = DbLease(w.sessions, holder="xinfeng-run")
    aps = start_ticking(w.sessions, w.clock, after_tick=after_tick, tz=w.tz, lease=lease)
    try:
        await asyncio.wait_for(ticked.wait(), timeout=30)  # an event, not a sleep: the tick runs at once
    finally:
        await stop_ticking(aps)
    assert len(await w.scheduled("moral_day")) == 5
    async with w.sessions() as s:
        row = await lease_state(s, "scheduler")
        assert row.holder is None and row.token == 1
