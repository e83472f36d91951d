"""The outbox relay: delivers owed messages through each recipient's channel and records the outcome.

A message is claimed (pending → sending) before it is sent, so two relays never send the
same row; a relay that dies mid-send leaves it to be reclaimed, so nothing is lost. The
channel reports what happened as a `DeliveryOutcome` and the relay applies it through
`storage.messaging.outbox.apply_outcome`, the one place that decides what an outcome means:
delivered, recipient gone (kept as undeliverable, the chat marked unreachable), throttled
(waits for the retry-after, no attempt counted), chat moved (re-addressed), a temporary
failure (counted, retried after a backoff) or refused (kept as undeliverable).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Protocol

from handlers.core.messages import Attachment, Button, OutboundMessage
from storage.clock import Clock
from storage.db import Sessions
from storage.messaging.attachments import blob_data
from storage.messaging.outbox import (
    MAX_ATTEMPTS,
    apply_outcome,
    claim,
    pending,
    reclaim_stale,
)
from storage.messaging.outcomes import (
    ChatMoved,
    Delivered,
    DeliveryOutcome,
    TemporaryFailure,
)
from storage.models import OutboxMessage

log = logging.getLogger(__name__)


class Channel(Protocol):
    """What the relay needs of a channel."""

    platform: str

    async def send(self, message: OutboundMessage) -> DeliveryOutcome:
        """Try to deliver one message and say what became of it; never raise for a platform's refusal."""
        ...


def to_outbound(row: OutboxMessage) -> OutboundMessage:
    """The platform-neutral form of an outbox row."""
    return OutboundMessage(
        platform=row.platform,
        address=row.address,
        text=row.text,
        recipient_label=row.recipient_label,
        buttons=[Button(b["label"], b["data"]) for b in row.buttons or []],
        kind=row.kind,
        ref=row.ref,
        outbox_id=row.id,
        person_id=row.person_id,
        attachments=[Attachment(kind=a["kind"], filename=a["filename"], mime=a["mime"], size=a.get("size", 0),
                                blob_id=a.get("blob_id")) for a in row.attachments or []],
    )


def as_outcome(result: object) -> DeliveryOutcome:
    """A channel's answer, which must be an outcome (anything else is a channel bug, retried as temporary)."""
    if isinstance(result, DeliveryOutcome):
        return result
    raise TypeError(f"a channel's send returned {result!r}, not a DeliveryOutcome")


class Relay:
    """Moves messages from the outbox to the channels."""

    def __init__(
        self,
        sessions: Sessions,
        clock: Clock,
        channels: list[Channel],
        *,
        unaddressed: Channel | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._channels = {c.platform: c for c in channels}
        # The console shows messages to people who have no chat account yet.
        self._unaddressed = unaddressed
        self._max_attempts = max_attempts
        # A channel with `concurrency` > 1 gets one lane per chat, that many sends in flight.
        self._gates: dict[str, asyncio.Semaphore] = {}
        self.more_waiting = False
        # How many rows the last round took up (tests and the loop wait on quiet rounds).
        self.last_round = 0

    async def deliver_pending(self, limit: int = 200) -> int:
        """Deliver what is owed and due now; returns how many were sent."""
        async with self._sessions() as session:
            now = self._clock.now()
            await reclaim_stale(session, older_than=now - timedelta(minutes=5))
            rows = await pending(session, platforms=list(self._channels),
                                 include_unaddressed=self._unaddressed is not None, now=now, limit=limit)
            await session.commit()
        self.last_round = len(rows)
        self.more_waiting = len(rows) >= limit
        sent = 0
        lanes: dict[tuple[str, str | None], list[OutboxMessage]] = {}
        # Chats whose message did not go out this round: their later messages wait, in order.
        stopped: set[tuple[str | None, str | None]] = set()
        for row in rows:
            channel = self._channel_for(row)
            chat = (row.platform, row.address)
            if channel is not None and getattr(channel, "concurrency", 1) > 1:
                lanes.setdefault((row.platform or "", row.address), []).append(row)
            elif chat in stopped and row.address is not None:
                continue
            elif await self._deliver(row):
                sent += 1
            else:
                stopped.add(chat)
        if lanes:
            sent += sum(await asyncio.gather(*(self._deliver_lane(lane) for lane in lanes.values())))
        return sent

    def _channel_for(self, row: OutboxMessage) -> Channel | None:
        return self._channels.get(row.platform) if row.platform else self._unaddressed

    def _gate(self, channel: Channel) -> asyncio.Semaphore:
        gate = self._gates.get(channel.platform)
        if gate is None:
            gate = self._gates[channel.platform] = asyncio.Semaphore(getattr(channel, "concurrency", 1))
        return gate

    async def _deliver_lane(self, lane: list[OutboxMessage]) -> int:
        """One chat's messages, in order, while other chats' lanes run beside it.

        The channel's rate limiter paces the lanes; the gate bounds how many are in flight. A
        message that does not go out ends the lane for this round, so a later message never
        overtakes an earlier one (and a waiting row holds its chat back in later rounds too).
        """
        channel = self._channel_for(lane[0])
        assert channel is not None
        sent = 0
        for row in lane:
            async with self._gate(channel):
                ok = await self._deliver(row)
            if not ok:
                break
            sent += 1
        return sent

    async def _deliver(self, row: OutboxMessage) -> bool:
        channel = self._channel_for(row)
        if channel is None:
            return False
        async with self._sessions() as session:
            if not await claim(session, row.id, now=self._clock.now()):
                await session.rollback()
                return False
            await session.commit()
        try:
            message = to_outbound(row)
            if message.attachments:
                message.attachments = await self._with_data(message.attachments)
            outcome = as_outcome(await channel.send(message))
        except Exception as exc:  # a channel bug must not strand the row: it is retried, then kept
            log.exception("delivery of outbox %s crashed", row.id)
            outcome = TemporaryFailure(repr(exc)[:2000])
        async with self._sessions() as session:
            status = await apply_outcome(session, row, outcome, now=self._clock.now(),
                                         max_attempts=self._max_attempts)
            await session.commit()
        if isinstance(outcome, ChatMoved):
            self.more_waiting = True  # re-addressed and pending again: the next round sends it
        if not isinstance(outcome, Delivered):
            log.warning("outbox %s to %s:%s not delivered (%s → %s): %s", row.id, row.platform, row.address,
                        type(outcome).__name__, status, getattr(outcome, "reason", ""))
        return status == "sent"

    async def _with_data(self, attachments: list[Attachment]) -> list[Attachment]:
        """The attachments with their bytes loaded from the blob store."""
        async with self._sessions() as session:
            data = await blob_data(session, [a.blob_id for a in attachments if a.blob_id is not None])
        return [replace(a, data=data.get(a.blob_id, b"") if a.blob_id is not None else a.data) for a in attachments]


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
