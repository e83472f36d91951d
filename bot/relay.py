"""The outbox relay: delivers owed messages through each recipient's channel, marking them sent.

A message is claimed (pending → sending) before it is sent, so two relays never send the
same row; a relay that dies mid-send leaves it to be reclaimed, so nothing is lost.
A channel raising `DeliveryError(retryable=False)` (blocked bot, unknown chat) records the
row as undeliverable — kept, never silently dropped.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.messages import Button, OutboundMessage
from storage.clock import Clock
from storage.models import OutboxMessage
from storage.outbox import claim, mark_failed, mark_sent, pending, reclaim_stale

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
        sent = 0
        for row in rows:
            if await self._deliver(row):
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
        try:
            external_id = await channel.send(to_outbound(row))
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
            try:
                await self.relay.deliver_pending()
            except Exception:  # the loop must outlive a database hiccup
                log.exception("relay round failed")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            except TimeoutError:
                pass
            self._wake.clear()
