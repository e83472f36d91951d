"""The outbox relay: delivers what is owed and was not sent right after its commit.

Most replies leave from the worker that handled the message, right after the commit (see
`ChannelKit` and `Courier`). The relay is for the rest: notifications written by the
scheduler, rows waiting out a platform's retry-after or a back-off, rows a chat's earlier
message held back, and the rows of a worker that died. Each round it takes over the rows of
dead workers, claims what is due (in one statement, under this worker's id) and hands it to
the courier, which sends each chat's rows in order and records the outcomes through
`storage.messaging.outbox` — delivered, recipient gone (kept as undeliverable, the chat marked
unreachable), throttled or postponed (waits, no attempt counted), chat moved (re-addressed), a
temporary failure (counted, retried after a backoff) or refused (kept as undeliverable).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import timedelta

from bot.delivery.courier import Channel, Courier, as_outcome, to_outbound
from bot.delivery.presence import Presence
from storage.clock import Clock
from storage.db import Sessions
from storage.messaging.outbox import MAX_ATTEMPTS, claim_many, pending, reclaim_stale

log = logging.getLogger(__name__)

__all__ = ["Channel", "Relay", "RelayLoop", "as_outcome", "to_outbound"]

# A row claimed by a relay with no worker id (the console, tests) and never finished: put back after this.
STALE_UNOWNED = timedelta(minutes=5)


class Relay:
    """Moves messages from the outbox to the channels, through this worker's courier."""

    def __init__(
        self,
        sessions: Sessions,
        clock: Clock,
        channels: Sequence[Channel],
        *,
        unaddressed: Channel | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        presence: Presence | None = None,
        courier: Courier | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._platforms = [c.platform for c in channels]
        self._unaddressed = unaddressed
        self.courier = courier or Courier(sessions, clock, channels, unaddressed=unaddressed, presence=presence,
                                          max_attempts=max_attempts)
        self.more_waiting = False
        # How many rows the last round took up (tests and the loop wait on quiet rounds).
        self.last_round = 0
        self._next_take_over = 0.0

    async def deliver_pending(self, limit: int = 200) -> int:
        """Deliver what is owed and due now; returns how many were sent."""
        if time.monotonic() >= self._next_take_over:
            self._next_take_over = time.monotonic() + 1.0
            await self.courier.take_over()
        async with self._sessions() as session:
            now = self._clock.now()
            await reclaim_stale(session, older_than=now - STALE_UNOWNED)
            rows = await pending(session, platforms=self._platforms, include_unaddressed=self._unaddressed is not None,
                                 now=now, limit=limit)
            taken = await claim_many(session, [r.id for r in rows], now=now, worker=self.courier.worker_id)
            await session.commit()
        self.more_waiting = len(rows) >= limit
        mine = [r for r in rows if r.id in taken]
        for row in mine:  # as the claim wrote them (the objects were read before it)
            row.status, row.claimed_by = "sending", self.courier.worker_id
        self.last_round = len(mine)
        return await self.courier.deliver(mine)


class RelayLoop:
    """Runs a relay until stopped: promptly when kicked (a message was handled), else every `interval`."""

    def __init__(self, relay: Relay, interval: float = 1.0) -> None:
        self.relay = relay
        self.interval = interval
        self._wake = asyncio.Event()
        self._started = 0
        self._finished = 0
        self._round_over = asyncio.Event()

    def kick(self) -> None:
        """Deliver now rather than at the next interval."""
        self._wake.set()

    async def next_round(self) -> int:
        """Wait for a round that starts after this call to finish; how many rows it took up."""
        target = self._started + 1
        while self._finished < target:
            await self._round_over.wait()
        return self.relay.last_round

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; a failing round is logged and retried."""
        while not stop.is_set():
            self._started += 1
            self._wake.clear()
            try:
                await self.relay.deliver_pending()
            except Exception:  # the loop must outlive a database hiccup
                log.exception("relay round failed")
                self.relay.more_waiting = False  # wait for the interval before trying again
            self._finished = self._started
            over, self._round_over = self._round_over, asyncio.Event()
            over.set()
            if self.relay.more_waiting and not stop.is_set():
                continue  # a broadcast is draining: the limiter, not the interval, sets the pace
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            except TimeoutError:
                pass
