"""The channel kit: the one inbound path every chat adapter uses, and the door it reports through.

An adapter only translates (platform payload → `InboundMessage`, `OutboundMessage` → platform
call) and hands each message to its `ChannelKit`:

1. `store` — the message is kept in the inbox, once, keyed by the platform's id, *before* the
   platform is told it arrived (before the next getUpdates, the webhook's 200, the callback's
   answer); a redelivery stores nothing and has no second effect;
2. `schedule` — it waits in a lane per (chat, user): one person's messages keep their order,
   different people's are handled side by side (two members pressing 「接单」 at once really
   race, and the database lets one win);
3. the engine handles it, committing its effects and the inbox row's status together; then
   the adapter's `after` hook runs (answer a button press, give a passive reply) and the relay
   is kicked;
4. a sweeper, at `start` and every `sweep_interval`, handles what this platform stored but never
   handled (a crash between storing and handling, a lost task) — handling claims the row
   first, so a row two workers recover is applied once.

Adapters never write to the database themselves: `kit.records` (`ChannelRecords`) is their
only door, and what a send achieved goes back to the relay as a `DeliveryOutcome`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.channels.records import ChannelRecords
from handlers.core.engine import Engine, message_from_payload
from handlers.core.messages import InboundMessage
from storage.messaging.inbox import claim_inbound, unprocessed
from storage.messaging.outcomes import DeliveryOutcome
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

Sleeper = Callable[[float], Awaitable[None]]
# Runs in the message's lane once it is handled, with the outbox rows the handling wrote.
AfterHandled = Callable[[list[OutboxMessage]], Awaitable[None]]
# How many stored-but-unhandled rows one sweep takes up.
RECOVER_BATCH = 10_000


class Undelivered(Exception):
    """Raised deep inside an adapter's send to stop with an outcome; its `send()` returns `outcome`."""

    def __init__(self, outcome: DeliveryOutcome) -> None:
        super().__init__(getattr(outcome, "reason", type(outcome).__name__))
        self.outcome = outcome


def _nothing() -> None:
    return None


class ChannelKit:
    """Store once → a lane per (chat, user) → handle → sweep what was left; for one platform."""

    def __init__(
        self,
        *,
        platform: str,
        engine: Engine,
        kick: Callable[[], None] = _nothing,
        concurrency: int = 16,
        sweep_interval: float = 60.0,
        sweep_wait: Sleeper = asyncio.sleep,
        stats: Counter[str] | None = None,
    ) -> None:
        self.platform = platform
        self.engine = engine
        self.records = ChannelRecords(platform=platform, sessions=engine.sessions, clock=engine.clock)
        self.kick = kick
        self.sweep_interval = sweep_interval
        self._sweep_wait = sweep_wait
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self._gate = asyncio.Semaphore(concurrency)
        self._lanes: dict[tuple[str, str], asyncio.Task[None]] = {}
        # Rows this process has in a lane: a sweep that finds one again leaves it alone.
        self._in_hand: set[int] = set()
        self._active = 0
        # Messages handled whose `after` (the answer to the platform) is still running.
        self._answering = 0
        self._sweeper: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Handle whatever was stored but not handled, then keep sweeping every `sweep_interval`."""
        await self.recover()
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep(), name=f"{self.platform}-inbox-sweep")

    async def stop(self, timeout: float | None = None) -> None:
        """Stop sweeping and let the messages in hand finish (at most `timeout` seconds)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        await self.drain(timeout)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until no message is waiting or being handled (at most `timeout` seconds)."""

        async def idle() -> None:
            while self._lanes:
                await asyncio.wait(list(self._lanes.values()))

        if timeout is None:
            await idle()
            return
        try:
            await asyncio.wait_for(idle(), timeout)
        except TimeoutError:
            log.warning("%s: %d lanes still busy after %.0f s", self.platform, len(self._lanes), timeout)

    @property
    def lanes(self) -> int:
        """How many (chat, user) lanes have messages waiting or being handled."""
        return len(self._lanes)

    async def wait_for_room(self, most: int) -> None:
        """Wait until at most `most` lanes are busy (back-pressure for a receiver that can wait)."""
        while len(self._lanes) > most:
            await asyncio.wait(list(self._lanes.values()), return_when=asyncio.FIRST_COMPLETED)

    # ------------------------------------------------------------------ the inbound path

    async def store(self, msg: InboundMessage) -> int | None:
        """Keep a message before the platform is told it arrived; None when it was stored before."""
        row_id = await self.engine.store(msg)
        if row_id is None:
            self.stats["redelivered"] += 1
        return row_id

    def schedule(
        self, row_id: int, msg: InboundMessage, after: AfterHandled | None = None
    ) -> asyncio.Future[list[OutboxMessage]]:
        """Handle a stored message after the earlier ones of the same person in the same chat.

        The future resolves with the outbox rows the handling wrote (none if another worker had
        handled it, or handling failed and the row waits for the sweeper), before `after` runs.
        """
        result: asyncio.Future[list[OutboxMessage]] = asyncio.get_running_loop().create_future()
        if row_id in self._in_hand:
            result.set_result([])
            return result
        key = (msg.chat_id, msg.user_id)
        before = self._lanes.get(key)
        self._in_hand.add(row_id)

        async def run() -> None:
            try:
                if before is not None:
                    await asyncio.wait([before])  # never cancels the one before
                async with self._gate:
                    rows = await self._process(row_id, msg)
                self._answering += 1
                try:
                    if not result.done():  # a caller that stopped waiting may have cancelled it
                        result.set_result(rows)
                    if after is not None:
                        await after(rows)
                except Exception:  # the message is handled; a failed answer must not undo that
                    log.exception("%s: answering message %s failed", self.platform, msg.message_id)
                finally:
                    self._answering -= 1
                # While another message is being answered the relay is not woken: it would race
                # that answer for the replies it delivers inline. The last answer wakes it.
                if self._answering == 0:
                    self.kick()
            finally:
                self._in_hand.discard(row_id)
                if not result.done():
                    result.set_result([])
                if self._lanes.get(key) is task:
                    del self._lanes[key]

        task = asyncio.create_task(run(), name=f"{self.platform}-inbound-{row_id}")
        self._lanes[key] = task
        return result

    async def receive(
        self, msg: InboundMessage, after: AfterHandled | None = None
    ) -> asyncio.Future[list[OutboxMessage]] | None:
        """Store and schedule one message; None when it was a redelivery (nothing to do)."""
        row_id = await self.store(msg)
        if row_id is None:
            return None
        return self.schedule(row_id, msg, after)

    async def handle(self, msg: InboundMessage) -> list[OutboxMessage] | None:
        """Receive one message and wait until it is handled (the console); None for a redelivery."""
        handled = await self.receive(msg)
        return None if handled is None else await handled

    async def _process(self, row_id: int, msg: InboundMessage) -> list[OutboxMessage]:
        self._active += 1
        self.stats["max_parallel"] = max(self.stats["max_parallel"], self._active)
        try:
            return await self.engine.process(row_id, msg)
        except Exception:  # the inbox keeps it: the sweeper or the next start handles it
            log.exception("%s message %s could not be handled", self.platform, msg.message_id)
            return []
        finally:
            self._active -= 1
            self.stats["handled"] += 1

    # ------------------------------------------------------------------ recovery

    async def recover(self, older_than: timedelta | None = None) -> int:
        """Schedule what this platform stored but never handled; returns how many.

        At start every such row; from the sweeper only rows older than `older_than`, as a
        younger one is most likely being handled right now (by this worker or another).
        """
        before = None if older_than is None else self.engine.clock.now() - older_than
        async with self.engine.sessions() as session:
            rows = await unprocessed(session, self.platform, limit=RECOVER_BATCH, received_before=before)
        taken = 0
        for row in rows:
            if row.id in self._in_hand:
                continue
            try:
                msg = message_from_payload(row.payload)
            except (TypeError, ValueError, KeyError) as exc:  # not a message: set it aside, do not retry forever
                log.error("%s inbox row %s cannot be handled: %r", self.platform, row.id, exc)
                async with self.engine.sessions() as session:
                    await claim_inbound(session, row.id, "failed", error=f"unreadable payload: {exc!r}"[:2000])
                    await session.commit()
                continue
            self.schedule(row.id, msg)
            taken += 1
        if taken:
            log.warning("%s: handling %d stored messages that were left unhandled", self.platform, taken)
            self.stats["recovered"] += taken
        return taken

    async def _sweep(self) -> None:
        while True:
            await self._sweep_wait(self.sweep_interval)
            try:
                await self.recover(older_than=timedelta(seconds=self.sweep_interval))
            except Exception:  # the database may be away for a while; the next sweep tries again
                log.exception("%s: sweeping the inbox failed", self.platform)
