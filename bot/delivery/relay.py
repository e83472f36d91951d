"""The outbox relay: delivers owed messages through each recipient's channel, marking them sent.

A message is claimed (pending → sending) before it is sent, so two relays never send the
same row; a relay that dies mid-send leaves it to be reclaimed, so nothing is lost.
A channel raising `DeliveryError(retryable=False)` (blocked bot, unknown chat) records the
row as undeliverable — kept, never silently dropped.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core.messages import Attachment, Button, OutboundMessage
from storage.clock import Clock
from storage.models import OutboxMessage
from storage.messaging.attachments import blob_data
from storage.messaging.outbox import claim, mark_failed, mark_sent, pending, reclaim_stale

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class DeliveryError(Exception):
    """A send failed; `retryable` says whether trying again later may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Channel(Protocol):
    """What the relay needs of a channel."""

    platform: str

    async def send(self, message: OutboundMessage) -> str | None:
        """Deliver one message; return the platform's message id when it has one."""
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


class Relay:
    """Moves messages from the outbox to the channels."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        channels: list[Channel],
        *,
        unaddressed: Channel | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._channels = {c.platform: c for c in channels}
        # The console shows messages to people who have no chat account yet.
        self._unaddressed = unaddressed
        # A channel with `concurrency` > 1 gets one lane per chat, that many sends in flight.
        self._gates: dict[str, asyncio.Semaphore] = {}
        self.more_waiting = False

    async def deliver_pending(self, limit: int = 200) -> int:
        """Deliver what is owed now; returns how many were sent."""
        async with self._sessions() as session:
            await reclaim_stale(session, older_than=self._clock.now() - timedelta(minutes=5))
            rows = await pending(
                session,
                platforms=list(self._channels),
                include_unaddressed=self._unaddressed is not None,
                limit=limit,
            )
            await session.commit()
        self.more_waiting = len(rows) >= limit
        sent = 0
        lanes: dict[tuple[str, str | None], list[OutboxMessage]] = {}
        for row in rows:
            channel = self._channel_for(row)
            if channel is not None and getattr(channel, "concurrency", 1) > 1:
                lanes.setdefault((row.platform or "", row.address), []).append(row)
            elif await self._deliver(row):
                sent += 1
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
        failure ends the lane for this round, so a later message never overtakes an earlier one.
        """
        channel = self._channel_for(lane[0])
        assert channel is not None
        sent = 0
        for row in lane:
            async with self._gate(channel):
                try:
                    ok = await self._deliver(row)
                except Exception as exc:  # a channel bug must not strand the whole round
                    log.exception("delivery of outbox %s crashed", row.id)
                    async with self._sessions() as session:
                        await mark_failed(session, row.id, error=repr(exc)[:2000],
                                          final=row.attempts + 1 >= MAX_ATTEMPTS)
                        await session.commit()
                    ok = False
            if not ok:
                break
            sent += 1
        return sent

    async def _deliver(self, row: OutboxMessage) -> bool:
        channel = self._channels.get(row.platform) if row.platform else self._unaddressed
        if channel is None:
            return False
        async with self._sessions() as session:
            if not await claim(session, row.id, now=self._clock.now()):
                await session.rollback()
                return False
            await session.commit()
        message = to_outbound(row)
        if message.attachments:
            message.attachments = await self._with_data(message.attachments)
        try:
            external_id = await channel.send(message)
        except DeliveryError as exc:
            final = not exc.retryable or row.attempts + 1 >= MAX_ATTEMPTS
            log.warning("delivery of outbox %s failed (final=%s): %s", row.id, final, exc)
            async with self._sessions() as session:
                await mark_failed(session, row.id, error=str(exc), final=final)
                await session.commit()
            return False
        async with self._sessions() as session:
            await mark_sent(session, row.id, now=self._clock.now(), external_message_id=external_id)
            await session.commit()
        return True


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

    def kick(self) -> None:
        """Deliver now rather than at the next interval."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; a failing round is logged and retried."""
        while not stop.is_set():
            sent = 0
            try:
                sent = await self.relay.deliver_pending()
            except Exception:  # the loop must outlive a database hiccup
                log.exception("relay round failed")
            if sent and self.relay.more_waiting and not stop.is_set():
                continue  # a broadcast is draining: the limiter, not the interval, sets the pace
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            except TimeoutError:
                pass
            self._wake.clear()
