"""Send right after commit, leases on claimed rows, the send journal, infrastructure errors postponed.

Workers here are `Presence` objects registered in the test database; their heartbeats are the
test's settable clock, so "dead" is a clock advanced past the lease, never a sleep.
"""

from __future__ import annotations

import time
from sqlalchemy import event, select

from bot.channels.base import ChannelKit
from bot.delivery.courier import Courier
from bot.delivery.journal import Journal
from bot.delivery.presence import Presence
from bot.delivery.relay import Relay
from handlers.core.messages import InboundMessage, OutboundMessage
from storage.messaging.outbox import MAX_ATTEMPTS, claim_many, enqueue_to_person
from storage.messaging.outcomes import Delivered, DeliveryOutcome
from storage.models import DeliveryWorker, InboxMessage, OutboxMessage, Person

LEASE = 5.0


async def _worker(chat, tmp_path, name: str) -> Presence:
    """A registered worker that has beaten without a break for a whole lease (it may judge others)."""
    presence = Presence(chat.sessions, chat.clock, journal_dir=tmp_path, lease=LEASE, name=name)
    await presence._register()
    presence._alive_since = time.monotonic() - LEASE  # as if it had beaten for a lease already
    return presence


async def _owed(chat, name: str, text: str) -> int:
    await chat.person_id(name)
    async with chat.sessions() as s:
        person = await s.get(Person, chat.ids[name])
        row = await enqueue_to_person(s, person=person, text=text, now=chat.clock.now())
        await s.commit()
        return row.id


async def _claim(chat, row_id: int, worker: Presence) -> None:
    async with chat.sessions() as s:
        assert await claim_many(s, [row_id], now=chat.clock.now(), worker=worker.worker_id) == {row_id}
        await s.commit()


async def _row(chat, row_id: int) -> OutboxMessage:
    async with chat.sessions() as s:
        return await s.get(OutboxMessage, row_id)


async def _relay_round(chat, channel, worker: Presence) -> int:
    # A fresh relay each round: its take-over check is not held back by the previous round's.
    return await Relay(chat.sessions, chat.clock, [channel], presence=worker).deliver_pending()


async def test_a_reply_leaves_right_after_the_one_transaction_that_handled_it(chat, tmp_path) -> None:
    worker = await _worker(chat, tmp_path, "w1")
    courier = Courier(chat.sessions, chat.clock, [chat.channel], presence=worker)
    kit = ChannelKit(platform="test", engine=chat.engine, courier=courier)
    pid = await chat.person_id("王大娘")
    bind = (await chat.sessions().__aenter__()).get_bind()
    commits: list[int] = []
    statements: list[str] = []
    event.listen(bind, "commit", lambda conn: commits.append(len(statements)))
    event.listen(bind, "before_cursor_execute", lambda *a: statements.append(a[2]))
    msg = InboundMessage(platform="test", user_id=f"u{pid}", chat_id=f"u{pid}", text="我的", message_id="c1")
    handled = await kit.receive(msg)
    assert handled is not None and [r.id for r in handled.direct] == [r.id for r in handled.rows]
    await kit.drain()
    await courier.drain()
    # No relay ran: the handling worker sent the reply itself, after the commit.
    [sent] = chat.channel.sent
    assert sent.person_id == pid and sent.outbox_id == handled.rows[0].id
    # Two transactions: the update (inbox row, effects, outbox row claimed, processed) and the recording.
    assert len(commits) == 2
    handling = [s for s in statements[:commits[0]] if not s.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
    assert len(handling) <= 9, handling  # measured: 9 (identity+roles+state 1, 「我的」 4, outbox 1, inbox 1, claim 2)
    async with chat.sessions() as s:
        row = await s.get(OutboxMessage, handled.rows[0].id)
        assert (row.status, row.claimed_by, row.external_message_id) == ("sent", None, "1")
        assert (await s.execute(select(InboxMessage.status))).scalars().all() == ["processed"]


async def test_a_live_workers_rows_are_never_taken_and_a_dead_ones_within_the_lease(chat, tmp_path) -> None:
    a = await _worker(chat, tmp_path, "a")
    b = await _worker(chat, tmp_path, "b")
    row_id = await _owed(chat, "王大娘", "您的任务有新消息")
    await _claim(chat, row_id, a)  # a is sending it
    assert await _relay_round(chat, chat.channel, b) == 0
    chat.clock.advance(seconds=LEASE - 1)  # a is slow but its lease holds
    assert await _relay_round(chat, chat.channel, b) == 0
    assert chat.channel.sent == [] and (await _row(chat, row_id)).claimed_by == a.worker_id
    chat.clock.advance(seconds=2)  # a has not beaten for longer than the lease: dead
    assert await _relay_round(chat, chat.channel, b) == 1
    assert [m.outbox_id for m in chat.channel.sent] == [row_id]
    assert (await _row(chat, row_id)).status == "sent"
    async with chat.sessions() as s:
        assert (await s.execute(select(DeliveryWorker.name))).scalars().all() == ["b"]


async def test_a_dead_workers_journal_keeps_what_it_delivered_from_going_twice(chat, tmp_path) -> None:
    a = await _worker(chat, tmp_path, "a")
    b = await _worker(chat, tmp_path, "b")
    delivered = await _owed(chat, "王大娘", "已送达但没记上")
    in_flight = await _owed(chat, "李大爷", "发到一半")
    for row_id in (delivered, in_flight):
        await _claim(chat, row_id, a)
    journal: Journal = a.journal  # type: ignore[assignment]
    journal.sending(delivered)
    journal.delivered(delivered, "tg-77")  # the platform took it; then `a` was killed before recording
    journal.sending(in_flight)  # no answer came before the kill
    chat.clock.advance(seconds=LEASE + 1)
    relay = Relay(chat.sessions, chat.clock, [chat.channel], presence=b)
    assert await relay.deliver_pending() == 1
    assert [m.outbox_id for m in chat.channel.sent] == [in_flight]  # only the one with no answer goes again
    row = await _row(chat, delivered)
    assert (row.status, row.external_message_id) == ("sent", "tg-77")
    assert relay.courier.stats["taken_over"] == 2 and relay.courier.stats["possible_duplicates"] == 1
    assert not journal.path.exists()  # read, applied and removed


class DownstreamDown:
    """A channel whose own infrastructure fails (Redis, our network) before the platform is asked."""

    platform = "test"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> DeliveryOutcome:
        if self.failures > 0:
            self.failures -= 1
            from redis.exceptions import ConnectionError as RedisConnectionError

            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")
        self.sent.append(message)
        return Delivered(f"m{len(self.sent)}")


async def test_an_infrastructure_error_is_never_a_delivery_attempt(chat, tmp_path) -> None:
    worker = await _worker(chat, tmp_path, "w")
    channel = DownstreamDown(failures=3 * MAX_ATTEMPTS)
    row_id = await _owed(chat, "王大娘", "Redis 挂了也要送到")
    for _ in range(3 * MAX_ATTEMPTS):
        await _relay_round(chat, channel, worker)
        row = await _row(chat, row_id)
        assert (row.status, row.attempts, row.claimed_by) == ("pending", 0, None)
        assert row.not_before is not None and row.not_before > chat.clock.now()
        chat.clock.advance(seconds=61)
    assert await _relay_round(chat, channel, worker) == 1
    assert [m.outbox_id for m in channel.sent] == [row_id]
    assert (await _row(chat, row_id)).status == "sent"


async def test_a_row_of_a_stopping_chat_goes_back_untried_behind_the_one_that_waits(chat, tmp_path) -> None:
    worker = await _worker(chat, tmp_path, "w")
    channel = DownstreamDown(failures=1)
    first = await _owed(chat, "王大娘", "第一条")
    second = await _owed(chat, "王大娘", "第二条")
    assert await _relay_round(chat, channel, worker) == 0
    rows = [await _row(chat, i) for i in (first, second)]
    assert [(r.status, r.attempts, r.claimed_by) for r in rows] == [("pending", 0, None)] * 2
    assert rows[1].not_before is None  # untried: it only waits behind the first
    chat.clock.advance(minutes=2)
    await _relay_round(chat, channel, worker)
    assert [m.text for m in channel.sent] == ["第一条", "第二条"]


class CutsTheDatabase:
    """A platform that takes the message — and at that moment the database goes away."""

    platform = "test"

    def __init__(self, proxy) -> None:  # type: ignore[no-untyped-def]
        self.proxy = proxy
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> DeliveryOutcome:
        self.sent.append(message)
        self.proxy.cut()
        return Delivered(f"m{len(self.sent)}")


async def test_a_send_is_recorded_once_the_database_is_back_and_never_sent_twice(chat, engine, tmp_path) -> None:
    import asyncio

    from storage.db import session_factory
    from tests.faults.servers import database_behind_a_proxy

    async with database_behind_a_proxy(engine) as (proxy, through):
        a = await _worker(chat, tmp_path, "a")
        b = await _worker(chat, tmp_path, "b")
        row_id = await _owed(chat, "王大娘", "送到了，库却断了")
        channel = CutsTheDatabase(proxy)
        courier = Courier(session_factory(through), chat.clock, [channel], presence=a)
        await _claim(chat, row_id, a)
        row = await _row(chat, row_id)
        delivering = courier.take([row])
        while courier.stats["record_retry"] < 3:  # the outcome waits, retried, while the database is away
            await asyncio.sleep(0.02)
        # Meanwhile another worker's relay leaves the row alone: its holder is alive (its lease holds).
        assert await _relay_round(chat, chat.channel, b) == 0 and chat.channel.sent == []
        proxy.restore()
        assert await asyncio.wait_for(delivering, 30) == 1
        row = await _row(chat, row_id)
        assert (row.status, row.external_message_id, row.claimed_by) == ("sent", "m1", None)
        assert len(channel.sent) == 1 and chat.channel.sent == []



class SlowBulk:
    """A platform that holds every bulk send until released; replies go through at once."""

    platform = "test"
    concurrency = 2

    def __init__(self) -> None:
        import asyncio

        self.release = asyncio.Event()
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> DeliveryOutcome:
        if message.kind != "reply":
            await self.release.wait()  # as a send waiting for the rate limiter's bulk share
        self.sent.append(message)
        return Delivered(f"m{len(self.sent)}")


async def test_a_reply_does_not_queue_behind_bulk_sends_waiting_for_their_share(chat, tmp_path) -> None:
    import asyncio

    from storage.messaging.outbox import enqueue_reply

    worker = await _worker(chat, tmp_path, "w")
    channel = SlowBulk()
    courier = Courier(chat.sessions, chat.clock, [channel], presence=worker)
    names = ["王大娘", "李大爷", "钱志愿", "赵志愿", "周台吉"]
    bulk = [await _row(chat, await _owed(chat, name, "广播")) for name in names]
    pid = await chat.person_id("城关所长")
    async with chat.sessions() as s:
        reply = enqueue_reply(s, person_id=pid, platform="test", address=f"u{pid}", label="城关所长", text="回复",
                              buttons=[], ref=None, now=chat.clock.now())
        await s.commit()
    for row in [*bulk, reply]:
        await _claim(chat, row.id, worker)
    sending = courier.take(bulk)
    replied = courier.take([await _row(chat, reply.id)])
    assert await asyncio.wait_for(replied, 10) == 1  # while every bulk send still waits
    assert [m.text for m in channel.sent] == ["回复"]
    channel.release.set()
    assert await asyncio.wait_for(sending, 10) == len(names)
