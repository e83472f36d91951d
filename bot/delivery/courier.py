"""The courier: sends outbox rows this worker has claimed, each chat's in order, and records the outcomes.

Rows reach it two ways: a reply written by a message this worker just handled (claimed in that
transaction and sent right after its commit, see `ChannelKit`), or rows the relay claimed. Each
chat has a lane, so its messages leave in order while other chats' go beside them (a channel
without `concurrency` > 1 has one lane for everything: strictly in order). A row that does not
go out stops its chat's lane: the rows behind it go back to the relay untried, so nothing
overtakes it.

What a channel reports is noted in the journal (`bot.delivery.journal`) and recorded in the
database in batches: one statement for all the deliveries of a few milliseconds, and
`apply_outcome` for anything else. Recording is retried until it sticks — while the database
is away the rows stay claimed by this (live) worker, so nobody sends them again. An error of
the infrastructure (database, Redis, network) during a send is `Postponed`: the row waits and
is tried again with no attempt counted; only a platform's own answer makes a row undeliverable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from bot.delivery.journal import read_journal, remove_journal
from bot.delivery.presence import Presence
from handlers.core.messages import Attachment, Button, OutboundMessage
from storage.clock import Clock
from storage.db import Sessions, transient
from storage.messaging.attachments import blob_data
from storage.messaging.outbox import (
    MAX_ATTEMPTS,
    apply_outcome,
    claimed_by,
    mark_delivered,
    release,
)
from storage.messaging.outcomes import Delivered, DeliveryOutcome, Postponed, TemporaryFailure
from storage.messaging.wechat import save_choices
from storage.messaging.workers import dead_workers, forget_worker, still_dead
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

# How long outcomes gather before they are written together.
RECORD_WINDOW = 0.005
# The longest wait after a send our infrastructure could not make (doubling from one second).
POSTPONE_CAP = 60.0


class Channel(Protocol):
    """What the courier needs of a channel."""

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


@dataclass
class _Batch:
    """Rows handed over together; `done` resolves with how many were delivered once all are recorded."""

    remaining: int
    done: asyncio.Future[int]
    # The worker id the rows were claimed under: a worker taken for dead during a stall registers
    # again under a new id, and what it sent under the old one must still be recorded.
    worker: int | None = None
    delivered: int = 0

    def one(self, delivered: bool) -> None:
        self.remaining -= 1
        self.delivered += delivered
        if self.remaining <= 0 and not self.done.done():
            self.done.set_result(self.delivered)


@dataclass
class _Lane:
    items: deque[tuple[OutboxMessage, _Batch]] = field(default_factory=deque)
    # Chats whose message did not go out: their later rows go back to the relay untried.
    stopped: set[str | None] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class Courier:
    """Sends claimed rows per chat, in order, and records what became of them in batches."""

    def __init__(
        self,
        sessions: Sessions,
        clock: Clock,
        channels: Sequence[Channel],
        *,
        unaddressed: Channel | None = None,
        presence: Presence | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        stats: Counter[str] | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._channels = {c.platform: c for c in channels}
        self._unaddressed = unaddressed
        self.presence = presence
        self.max_attempts = max_attempts
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self.platforms = frozenset(self._channels)
        self._lanes: dict[tuple[str | None, str | None], _Lane] = {}
        self._gates: dict[tuple[str | None, str], asyncio.Semaphore] = {}
        self._to_record: list[tuple[OutboxMessage, DeliveryOutcome | None, _Batch]] = []
        self._record_wake = asyncio.Event()
        self._recorder: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._postponements = 0

    @property
    def worker_id(self) -> int | None:
        """The id rows are claimed under (None: a courier of no registered worker — tests, the console)."""
        return None if self.presence is None else self.presence.worker_id

    # ------------------------------------------------------------------ handing rows over

    def take(self, rows: Sequence[OutboxMessage]) -> asyncio.Future[int]:
        """Send rows claimed by this worker, after whatever each chat already has in its lane.

        Resolves with how many were delivered, once every outcome is recorded in the database.
        """
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if not rows:
            done.set_result(0)
            return done
        batch = _Batch(len(rows), done, self.worker_id)
        self._idle.clear()
        for row in rows:
            key = self._lane_key(row)
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = _Lane()
            lane.items.append((row, batch))
            if lane.task is None or lane.task.done():
                lane.task = asyncio.create_task(self._run_lane(key, lane), name=f"courier-{key[0]}-{key[1]}")
        return done

    async def deliver(self, rows: Sequence[OutboxMessage]) -> int:
        """Send rows claimed by this worker and wait until their outcomes are recorded; how many went."""
        return await self.take(rows)

    def _channel_for(self, row: OutboxMessage) -> Channel | None:
        return self._channels.get(row.platform) if row.platform else self._unaddressed

    def _lane_key(self, row: OutboxMessage) -> tuple[str | None, str | None]:
        channel = self._channel_for(row)
        if channel is not None and getattr(channel, "concurrency", 1) > 1:
            return row.platform, row.address
        return row.platform, "*"  # one lane for the whole channel: strictly in order

    def _gate(self, channel: Channel, row: OutboxMessage) -> asyncio.Semaphore:
        # Replies have a gate of their own: sends waiting for the rate limiter hold their gate, so
        # behind a draining broadcast a reply would queue for minutes before it could even ask for
        # the part of the budget bulk leaves free (the two lanes of `bot.channels.telegram.send`).
        key = (channel.platform, "reply" if row.kind == "reply" else "bulk")
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = asyncio.Semaphore(max(1, getattr(channel, "concurrency", 1)))
        return gate

    # ------------------------------------------------------------------ sending

    async def _run_lane(self, key: tuple[str | None, str | None], lane: _Lane) -> None:
        try:
            while lane.items:
                row, batch = lane.items.popleft()
                if row.address in lane.stopped:
                    self._record(row, None, batch)  # back to the relay, behind the one that waits
                    continue
                outcome = await self._send(row)
                if not isinstance(outcome, Delivered):
                    lane.stopped.add(row.address)
                self._record(row, outcome, batch)
        finally:
            if self._lanes.get(key) is lane and not lane.items:
                del self._lanes[key]
            self._check_idle()

    async def _send(self, row: OutboxMessage) -> DeliveryOutcome:
        channel = self._channel_for(row)
        if channel is None:
            return Postponed(POSTPONE_CAP, f"no channel for {row.platform!r} in this worker")
        journal = self.presence.journal if self.presence is not None else None
        try:
            message = to_outbound(row)
            if message.attachments:
                message.attachments = await self._with_data(message.attachments)
            async with self._gate(channel, row):
                if journal is not None:  # noted once through the gate: what may be in flight, not all queued
                    journal.sending(row.id)
                outcome = as_outcome(await channel.send(message))
        except Exception as exc:
            if transient(exc):  # our database, Redis or network: not the platform's answer
                self._postponements += 1
                wait = min(POSTPONE_CAP, 2.0 ** min(self._postponements - 1, 6))
                log.warning("outbox %s postponed %.0f s: %r", row.id, wait, exc)
                outcome = Postponed(wait, f"infrastructure: {exc!r}"[:2000])
            else:  # a channel bug must not strand the row: it is retried, then kept
                log.exception("delivery of outbox %s crashed", row.id)
                outcome = TemporaryFailure(repr(exc)[:2000])
        if journal is not None:
            if isinstance(outcome, Delivered):
                journal.delivered(row.id, outcome.external_id)
            else:
                journal.not_delivered(row.id)
        if isinstance(outcome, Delivered):
            self._postponements = 0
        self.stats["delivered" if isinstance(outcome, Delivered) else type(outcome).__name__.lower()] += 1
        return outcome

    async def _with_data(self, attachments: list[Attachment]) -> list[Attachment]:
        """The attachments with their bytes loaded from the blob store."""
        async with self._sessions() as session:
            data = await blob_data(session, [a.blob_id for a in attachments if a.blob_id is not None])
        return [replace(a, data=data.get(a.blob_id, b"") if a.blob_id is not None else a.data) for a in attachments]

    # ------------------------------------------------------------------ recording

    def _record(self, row: OutboxMessage, outcome: DeliveryOutcome | None, batch: _Batch) -> None:
        self._to_record.append((row, outcome, batch))
        self._record_wake.set()
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._record_loop(), name="courier-recorder")

    async def _record_loop(self) -> None:
        while self._to_record:
            await asyncio.sleep(RECORD_WINDOW)  # let the outcomes of a few milliseconds gather
            batch = self._to_record[:]
            delay = 0.05
            while True:
                try:
                    await self._write(batch)
                    break
                except Exception as exc:
                    if not transient(exc):
                        log.exception("recording %d outcomes failed; recording them one by one", len(batch))
                        await self._write_each(batch)
                        break
                    self.stats["record_retry"] += 1
                    if self.stats["record_retry"] % 20 == 1:
                        log.warning("recording %d outcomes: database unreachable (%r), retrying", len(batch), exc)
                    await asyncio.sleep(delay)
                    delay = min(2.0, delay * 2)
            del self._to_record[:len(batch)]
            journal = self.presence.journal if self.presence is not None else None
            if journal is not None:
                journal.recorded([row.id for row, _, _ in batch])
            for _, outcome, owner in batch:
                owner.one(isinstance(outcome, Delivered))
        self._check_idle()

    async def _write(self, batch: list[tuple[OutboxMessage, DeliveryOutcome | None, _Batch]]) -> None:
        async with self._sessions() as session:
            now = self._clock.now()
            for worker in dict.fromkeys(owner.worker for _, _, owner in batch):
                mine = [(row, o) for row, o, owner in batch if owner.worker == worker]
                delivered = [(row.id, o.external_id) for row, o in mine if isinstance(o, Delivered)]
                await mark_delivered(session, delivered, now=now, worker=worker)
                await release(session, [row.id for row, o in mine if o is None], worker=worker)
            for row, outcome, owner in batch:
                worker = owner.worker
                if isinstance(outcome, Delivered):
                    if outcome.numbered and row.platform and row.address:
                        await save_choices(session, platform=row.platform, chat_id=row.address,
                                           choices=list(outcome.numbered), now=now)
                elif outcome is not None:
                    status = await apply_outcome(session, row, outcome, now=now, max_attempts=self.max_attempts,
                                                 worker=worker)
                    log.warning("outbox %s to %s:%s not delivered (%s → %s): %s", row.id, row.platform,
                                row.address, type(outcome).__name__, status, getattr(outcome, "reason", ""))
            await session.commit()

    async def _write_each(self, batch: list[tuple[OutboxMessage, DeliveryOutcome | None, _Batch]]) -> None:
        for item in batch:
            try:
                await self._write([item])
            except Exception:
                log.exception("outcome of outbox %s could not be recorded", item[0].id)

    def _check_idle(self) -> None:
        if not self._lanes and not self._to_record:
            self._idle.set()

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until every row handed over is sent and recorded (at most `timeout` seconds)."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            log.warning("courier: %d lanes still sending after %.0f s", len(self._lanes), timeout or 0)

    @property
    def busy(self) -> int:
        """Rows waiting in lanes or for their outcome to be recorded."""
        return sum(len(lane.items) for lane in self._lanes.values()) + len(self._to_record)

    # ------------------------------------------------------------------ rows of dead workers

    async def take_over(self) -> int:
        """Put a dead worker's rows back (recording as sent what its journal says it delivered); how many.

        Only a worker that has itself been alive for a whole lease decides that another is dead.
        """
        if self.presence is None or not self.presence.may_take_over():
            return 0
        asked = time.monotonic()
        async with self._sessions() as session:
            dead = await dead_workers(session, now=self._clock.now(), lease=self.presence.lease_delta)
        if time.monotonic() - asked > self.presence.lease / 2 or not self.presence.may_take_over():
            return 0  # the database stalled while we asked: everyone's beat is late, judge nobody now
        taken = 0
        for worker in dead:
            if worker.id == self.worker_id:  # its own beat is late (a stall): it is alive, it asks
                continue
            taken += await self._take_over_one(worker.id, worker.name, worker.journal)
        return taken

    async def _end_held(self, name: str, rows: Sequence[OutboxMessage]) -> None:
        """End the rate-limit slots the dead worker held for these rows' chats: sent again now, they
        would otherwise wait out each slot's hold. Best effort: unended, a slot ends with its hold."""
        for platform, channel in self._channels.items():
            end_held = getattr(channel, "end_held", None)
            addresses = [r.address for r in rows if r.platform == platform and r.address]
            if end_held is None or not addresses:
                continue
            try:
                await end_held(name, addresses)
            except Exception as exc:
                log.warning("ending the rate-limit slots of dead worker %s failed: %r", name, exc)

    async def _take_over_one(self, worker_id: int, name: str, journal_path: str | None) -> int:
        notes = read_journal(journal_path)
        async with self._sessions() as session:
            assert self.presence is not None
            if not await still_dead(session, worker_id, now=self._clock.now(), lease=self.presence.lease_delta):
                return 0  # it beat meanwhile: alive after all
            rows = await claimed_by(session, worker_id)
            delivered = [(r.id, notes.delivered[r.id]) for r in rows if notes is not None and r.id in notes.delivered]
            again = [r.id for r in rows if notes is None or r.id not in notes.delivered]
            in_flight = len(again) if notes is None else sum(1 for i in again if i in notes.begun)
            await mark_delivered(session, delivered, now=self._clock.now(), worker=worker_id)
            await release(session, again, worker=worker_id)
            gone = await forget_worker(session, worker_id)
            await session.commit()
        if gone:
            remove_journal(journal_path)
        await self._end_held(name, rows)
        if rows:
            self.stats["taken_over"] += len(rows)
            self.stats["possible_duplicates"] += in_flight
            log.warning("worker %s (%s) is dead: %d rows taken over, %d already delivered by its journal, "
                        "%d were in flight (may arrive twice)", worker_id, name, len(rows), len(delivered), in_flight)
        return len(rows)
