"""The channel kit: the one inbound path every chat adapter uses, and the door it reports through.

An adapter only translates (platform payload → `InboundMessage`, `OutboundMessage` → platform
call) and hands each message to its `ChannelKit`:

1. `receive` — it waits in a lane per (chat, user): one person's messages keep their order,
   different people's are handled side by side (two members pressing 「接单」 at once really
   race, and the database lets one win);
2. the engine handles it in one transaction — the inbox row, the effects, the outbox rows —
   and only then is the platform told it arrived (the webhook's 200, the next getUpdates); an
   infrastructure failure is retried a few times and then reported (`Unavailable`), so the
   platform delivers it again; a redelivery meets the inbox row and has no second effect;
3. the adapter's `after` hook runs (answer a button press, give a passive reply), then the
   replies this worker claimed in that transaction go straight to the courier — sent right
   after the commit — and the relay is kicked for the rest;
4. a message the adapter had to keep before handling it (`keep`, `store`: a WeChat callback out
   of time) is retried until it is handled, and a sweeper, at `start` and every
   `sweep_interval`, handles what a crashed worker kept but never handled.

Adapters never write to the database themselves: `kit.records` (`ChannelRecords`) is their
only door, and what a send achieved goes back to the courier as a `DeliveryOutcome`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any

from bot.channels.records import ChannelRecords
from handlers.core.engine import Engine, Handled, InlineAnswer, Sending, Unavailable, message_from_payload
from handlers.core.messages import InboundMessage
from storage.db import reading, transient
from storage.messaging.inbox import claim_inbound, unprocessed
from storage.messaging.outcomes import DeliveryOutcome
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

Sleeper = Callable[[float], Awaitable[None]]
# Runs in the message's lane once it is handled, with what the handling wrote; returns the ids of
# rows it delivered itself (a button's alert, a passive reply), if any.
AfterHandled = Callable[[Handled], Awaitable[Iterable[int] | None]]
# How many stored-but-unhandled rows one sweep takes up.
RECOVER_BATCH = 10_000
# An infrastructure failure is retried this many times in the lane before the platform is told to
# deliver the message again (a message already kept is retried until it goes through).
TRIES = 3
RETRY_WAIT = 0.2
KEPT_RETRY_CAP = 5.0


class Undelivered(Exception):
    """Raised deep inside an adapter's send to stop with an outcome; its `send()` returns `outcome`."""

    def __init__(self, outcome: DeliveryOutcome) -> None:
        super().__init__(getattr(outcome, "reason", type(outcome).__name__))
        self.outcome = outcome


def _nothing() -> None:
    return None


_WARMING: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}


def parser_warmed() -> asyncio.Task[None]:
    """Load the language models (jieba, jionlp) once, in a thread: done when the first message may be parsed.

    Loading takes seconds; done inside the event loop by the first free-text message, it would
    stall every other message for that long. Every channel's kit starts it at `start` and waits
    for it before handling anything.
    """
    loop = asyncio.get_running_loop()
    task = _WARMING.get(loop)
    if task is None:
        from handlers.language.nlp import warm_up

        for old in [other for other in _WARMING if other.is_closed()]:
            del _WARMING[old]
        task = _WARMING[loop] = loop.create_task(_warm(warm_up), name="parser-warm-up")
    return task


async def _warm(warm_up: Callable[[], None]) -> None:
    await asyncio.to_thread(warm_up)
    # The models are a few million objects that live as long as the process: out of the garbage
    # collector's sight, a full collection takes ~0 ms instead of 110–124 ms of stalled loop.
    gc.freeze()


class _InHand:
    """A message in this process's hands: its result, and whether it has been kept in the inbox."""

    __slots__ = ("future", "kept", "inline")

    def __init__(self, future: asyncio.Future[Handled | None], kept: bool, inline: InlineAnswer | None) -> None:
        self.future = future
        self.kept = kept
        # Replies that may go out inside the platform's answer (see `Engine.receive`).
        self.inline = inline


class ChannelKit:
    """A lane per (chat, user) → one transaction → send at once; retries and sweeps; for one platform."""

    def __init__(
        self,
        *,
        platform: str,
        engine: Engine,
        kick: Callable[[], None] = _nothing,
        courier: Any = None,
        concurrency: int = 16,
        sweep_interval: float = 60.0,
        sweep_wait: Sleeper = asyncio.sleep,
        retry_wait: Sleeper = asyncio.sleep,
        stats: Counter[str] | None = None,
    ) -> None:
        self.platform = platform
        self.engine = engine
        self.records = ChannelRecords(platform=platform, sessions=engine.sessions, clock=engine.clock)
        self.kick = kick
        # The worker's courier (`bot.delivery.courier.Courier`): set by the composition root; without
        # one every reply goes by the relay.
        self.courier = courier
        self.sweep_interval = sweep_interval
        self._sweep_wait = sweep_wait
        self._retry_wait = retry_wait
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self._gate = asyncio.Semaphore(concurrency)
        self._lanes: dict[tuple[str, str], asyncio.Task[None]] = {}
        # Messages this process has in a lane, by platform message id: a retry of one joins it,
        # and a sweep that finds a kept one again leaves it alone.
        self._in_hand: dict[str, _InHand] = {}
        # One set per sweep reading the inbox: the messages handled meanwhile, which its (older)
        # snapshot still shows as unhandled — not to be scheduled again.
        self._sweeps: list[set[str]] = []
        self._active = 0
        # Messages handled whose `after` (the answer to the platform) is still running.
        self._answering = 0
        self._sweeper: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Warm the parser up (in a thread), handle whatever was kept but not handled, keep sweeping."""
        parser_warmed()
        try:
            await self.recover()
        except Exception as exc:  # the database may be away at start: the sweeper tries again
            if not transient(exc):
                raise
            log.warning("%s: the inbox could not be swept at start (%r)", self.platform, exc)
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

    def live_workers(self) -> int:
        """How many workers share the platform's limits (from the heartbeats; 1 when unknown)."""
        presence = getattr(self.courier, "presence", None)
        return max(1, getattr(presence, "live", 1))

    @property
    def lanes(self) -> int:
        """How many (chat, user) lanes have messages waiting or being handled."""
        return len(self._lanes)

    async def wait_for_room(self, most: int) -> None:
        """Wait until at most `most` lanes are busy (back-pressure for a receiver that can wait)."""
        while len(self._lanes) > most:
            await asyncio.wait(list(self._lanes.values()), return_when=asyncio.FIRST_COMPLETED)

    # ------------------------------------------------------------------ the inbound path

    def receive(self, msg: InboundMessage, after: AfterHandled | None = None, *,
                kept: bool = False, inline: InlineAnswer | None = None) -> asyncio.Future[Handled | None]:
        """Handle a message in its lane; the future resolves once it is committed.

        It resolves with what the handling wrote, or None for a redelivery (handled before); it
        fails with `Unavailable` when the infrastructure kept failing — nothing was recorded and
        the platform must deliver the message again. A message already in hand (a retry arriving
        while the first delivery is handled) is not handled twice: its future is shared.
        """
        found = self._in_hand.get(msg.message_id)
        if found is not None:
            self.stats["redelivered"] += 1
            found.kept = found.kept or kept
            return found.future
        return self._schedule(msg, after, kept=kept, inline=inline)

    async def handle(self, msg: InboundMessage) -> list[OutboxMessage] | None:
        """Receive one message and wait until it is handled (the console); None for a redelivery."""
        handled = await self.receive(msg)
        return None if handled is None else handled.rows

    async def keep(self, msg: InboundMessage) -> int | None:
        """Keep a message in the inbox before the platform is told it arrived, when it cannot wait for the
        handling (a WeChat callback out of time); None when it was kept or handled before.

        From then on it is retried until handled, here or by any worker's sweeper.
        """
        found = self._in_hand.get(msg.message_id)
        if found is not None and found.kept:
            # Kept already and in this worker's hands (a platform's retry while it is handled): no
            # write, which on SQLite would wait for the very handler holding the writer.
            self.stats["redelivered"] += 1
            return None
        row_id = await self.engine.store(msg)
        found = self._in_hand.get(msg.message_id)
        if found is not None:
            found.kept = True
        if row_id is None:
            self.stats["redelivered"] += 1
        return row_id

    async def store(self, msg: InboundMessage) -> int | None:
        """Keep a message without handling it (what a process that dies next leaves behind)."""
        return await self.engine.store(msg)

    def schedule(self, row_id: int, msg: InboundMessage, after: AfterHandled | None = None) -> asyncio.Future[
            Handled | None]:
        """Handle a kept message in its lane (retried until it is handled)."""
        found = self._in_hand.get(msg.message_id)
        if found is not None:
            found.kept = True
            return found.future
        return self._schedule(msg, after, kept=True)

    def _schedule(self, msg: InboundMessage, after: AfterHandled | None, *, kept: bool,
                  inline: InlineAnswer | None = None) -> asyncio.Future[Handled | None]:
        result: asyncio.Future[Handled | None] = asyncio.get_running_loop().create_future()
        in_hand = self._in_hand[msg.message_id] = _InHand(result, kept, inline)
        key = (msg.chat_id, msg.user_id)
        before = self._lanes.get(key)

        async def run() -> None:
            try:
                if before is not None:
                    await asyncio.wait([before])  # never cancels the one before
                handled = await self._handle(msg, in_hand)
                for finished in self._sweeps:
                    finished.add(msg.message_id)
                if handled is None:
                    self.stats["redelivered"] += 1
                self._answering += 1
                try:
                    if not result.done():  # a caller that stopped waiting may have cancelled it
                        result.set_result(handled)
                    inline: set[int] = set()
                    if handled is not None and after is not None:
                        inline = set(await after(handled) or ())
                    if handled is not None:
                        self._send_now(handled, inline)
                except Exception:  # the message is handled; a failed answer must not undo that
                    log.exception("%s: answering message %s failed", self.platform, msg.message_id)
                finally:
                    self._answering -= 1
                # While another message is being answered the relay is not woken: it would race
                # that answer for the replies it delivers inline. The last answer wakes it.
                if self._answering == 0 and (handled is None or len(handled.direct) < len(handled.rows)):
                    self.kick()
            except Unavailable as exc:
                if not result.done():
                    result.set_exception(exc)
                    result.exception()  # retrieved here: a caller that stopped waiting must not warn
            finally:
                if self._in_hand.get(msg.message_id) is in_hand:
                    del self._in_hand[msg.message_id]
                if not result.done():
                    result.set_result(None)
                if self._lanes.get(key) is task:
                    del self._lanes[key]

        task = asyncio.create_task(run(), name=f"{self.platform}-inbound-{msg.message_id}")
        self._lanes[key] = task
        return result

    async def _handle(self, msg: InboundMessage, in_hand: _InHand) -> Handled | None:
        """Handle in one transaction; an infrastructure failure is tried again (a kept message: until it works)."""
        tries = 0
        while True:
            tries += 1
            try:
                async with self._gate:
                    handled = await self._process(msg, in_hand.inline)
            except Unavailable as exc:
                self.stats["unavailable"] += 1
                if not in_hand.kept and tries >= TRIES:
                    log.warning("%s message %s not handled (%s): the platform must deliver it again",
                                self.platform, msg.message_id, exc)
                    raise
                await self._retry_wait(min(KEPT_RETRY_CAP, RETRY_WAIT * 2 ** (tries - 1)))
                continue
            if handled is not None:
                self.stats["stored"] += 1
                if handled.failed:
                    self.stats["failed"] += 1
            return handled

    async def _process(self, msg: InboundMessage, inline: InlineAnswer | None = None) -> Handled | None:
        await parser_warmed()
        self._active += 1
        self.stats["max_parallel"] = max(self.stats["max_parallel"], self._active)
        try:
            courier = self.courier
            sending = None if courier is None else Sending(courier.worker_id, courier.platforms)
            handled = await self.engine.receive(msg, sending, inline)
        finally:
            self._active -= 1
        if handled is not None:  # a redelivery met the inbox row: nothing was handled
            self.stats["handled"] += 1
        return handled

    def _send_now(self, handled: Handled, inline: set[int]) -> None:
        """Hand the rows claimed in the handling transaction to the courier, minus those answered inline."""
        direct = [r for r in handled.direct if r.id not in inline]
        if direct and self.courier is not None:
            self.courier.take(direct)

    # ------------------------------------------------------------------ recovery

    async def recover(self, older_than: timedelta | None = None) -> int:
        """Schedule what this platform kept but never handled; returns how many.

        At start every such row; from the sweeper only rows older than `older_than`, as a
        younger one is most likely being handled right now (by this worker or another).
        """
        before = None if older_than is None else self.engine.clock.now() - older_than
        finished: set[str] = set()
        self._sweeps.append(finished)
        try:
            async with reading(self.engine.sessions) as session:
                rows = await unprocessed(session, self.platform, limit=RECOVER_BATCH, received_before=before)
        finally:
            self._sweeps.remove(finished)
        taken = 0
        for row in rows:
            try:
                msg = message_from_payload(row.payload)
            except (TypeError, ValueError, KeyError) as exc:  # not a message: set it aside, do not retry forever
                log.error("%s inbox row %s cannot be handled: %r", self.platform, row.id, exc)
                async with self.engine.sessions() as session:
                    await claim_inbound(session, row.id, "failed", error=f"unreadable payload: {exc!r}"[:2000])
                    await session.commit()
                continue
            if msg.message_id in self._in_hand or msg.message_id in finished:
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
