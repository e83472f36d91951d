"""`/metrics`: Prometheus' text format, from the running parts and from the database at scrape time.

Every scrape is parsed with prometheus_client's own parser, so a malformed exposition fails.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from bot.channels.base import ChannelKit
from bot.dashboard import dashboard_routes
from bot.logs import LogCounter
from bot.metrics import Metrics, ObservedRelay, TimedChannel, outcome_name
from bot.web import Health, build_app
from handlers.core.messages import InboundMessage, OutboundMessage
from scheduler.lease import DbLease
from scheduler.ticker import start_ticking, stop_ticking
from storage.clock import FixedClock
from storage.db import Sessions, create_engine, session_factory
from storage.messaging.outcomes import Delivered, DeliveryOutcome, RecipientGone, Throttled
from storage.migrate import head_revision
from storage.models import OutboxMessage
from tests.bot.monitoring import closed_port, samples, value
from tests.conftest import ChatHarness


async def scrape(metrics: Metrics) -> dict:
    """One scrape through the HTTP app, parsed."""
    app = build_app([], Health(sessions=metrics.sessions, head=head_revision(), metrics=metrics))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot") as http:
        answer = await http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")  # the text format
    return samples(answer.text)


async def outbox_rows(sessions: Sessions, clock: FixedClock, *statuses: str, platform: str = "test",
                      age: timedelta = timedelta(0)) -> None:
    """One outbox row per status, written `age` ago, each to its own chat."""
    async with sessions() as s:
        for i, status in enumerate(statuses):
            s.add(OutboxMessage(platform=platform, address=f"chat{i}", text=f"消息{i}", status=status,
                                created_at=clock.now() - age))
        await s.commit()


async def test_metrics_show_tasks_and_the_outbox_from_the_database(chat: ChatHarness) -> None:
    await chat.send("王大娘", "我家隔壁的孤寡老人想请人来帮忙理个发")
    await chat.send("王大娘", "确认")
    await outbox_rows(chat.sessions, chat.clock, "pending", "pending", "sending", "undeliverable",
                      platform="telegram", age=timedelta(minutes=5))
    found = await scrape(Metrics(sessions=chat.sessions, clock=chat.clock))
    assert value(found, "xinfeng_database_up") == 1
    assert sum(v for (name, _), v in found.items() if name == "xinfeng_tasks") == 1
    assert value(found, "xinfeng_outbox_messages", channel="telegram", status="pending") == 2
    assert value(found, "xinfeng_outbox_messages", channel="telegram", status="sending") == 1
    assert value(found, "xinfeng_outbox_messages", channel="telegram", status="undeliverable") == 1
    assert value(found, "xinfeng_outbox_messages", channel="test", status="sent") is None  # never scanned
    assert value(found, "xinfeng_outbox_oldest_due_seconds") == 300
    assert value(found, "process_resident_memory_bytes") is not None  # the process collector is there


async def test_a_message_waiting_for_its_retry_after_is_not_overdue(sessions: Sessions, clock: FixedClock) -> None:
    async with sessions() as s:
        s.add(OutboxMessage(platform="telegram", address="1", text="稍后", status="pending",
                            created_at=clock.now() - timedelta(hours=1),
                            not_before=clock.now() + timedelta(seconds=30)))
        await s.commit()
    found = await scrape(Metrics(sessions=sessions, clock=clock))
    assert value(found, "xinfeng_outbox_messages", channel="telegram", status="pending") == 1
    assert value(found, "xinfeng_outbox_oldest_due_seconds") == 0


class Flaky:
    """A channel that is throttled once, then delivers; a chat named "gone" has blocked the bot."""

    platform = "test"
    concurrency = 1

    def __init__(self) -> None:
        self.throttled = False

    async def send(self, message: OutboundMessage) -> DeliveryOutcome:
        if message.address == "gone":
            return RecipientGone("blocked")
        if not self.throttled:
            self.throttled = True
            return Throttled(30, "429")
        return Delivered("1")


async def test_sends_are_timed_and_counted_by_outcome(sessions: Sessions, clock: FixedClock) -> None:
    await outbox_rows(sessions, clock, "pending", "pending", "pending")
    async with sessions() as s:
        s.add(OutboxMessage(platform="test", address="gone", text="再见", status="pending", created_at=clock.now()))
        await s.commit()
    metrics = Metrics(sessions=sessions, clock=clock)
    relay = ObservedRelay(sessions, clock, [TimedChannel(Flaky(), metrics)], metrics=metrics)
    await relay.deliver_pending()
    found = await scrape(metrics)
    assert value(found, "xinfeng_deliveries_total", channel="test", outcome="throttled") == 1
    assert value(found, "xinfeng_deliveries_total", channel="test", outcome="delivered") == 2
    assert value(found, "xinfeng_deliveries_total", channel="test", outcome="recipient_gone") == 1
    assert value(found, "xinfeng_send_seconds_count", channel="test") == 4
    assert value(found, "xinfeng_relay_rounds_total", result="ok") == 1
    assert value(found, "xinfeng_relay_last_round_rows") == 4
    assert value(found, "xinfeng_outbox_messages", channel="test", status="pending") == 1  # waits out the 429


def test_outcome_labels_are_snake_case() -> None:
    assert [outcome_name(o) for o in (Delivered("1"), RecipientGone("x"), Throttled(1, "x"))] == [
        "delivered", "recipient_gone", "throttled"]


class KitChannel:
    """A channel that is nothing but its kit (the counters come from the kit, as on every adapter)."""

    platform = "test"

    def __init__(self, kit: ChannelKit) -> None:
        self.kit = kit


async def test_channel_kit_counters_are_exposed(chat: ChatHarness) -> None:
    kit = ChannelKit(platform="test", engine=chat.engine)
    pid = await chat.person_id("王大娘")
    msg = InboundMessage(platform="test", user_id=f"u{pid}", chat_id=f"u{pid}", text="帮助", message_id="k1")
    await kit.handle(msg)
    await kit.handle(msg)  # the platform delivers it again: stored once, handled once
    found = await scrape(Metrics(sessions=chat.sessions, clock=chat.clock, channels=[KitChannel(kit)]))
    assert value(found, "xinfeng_channel_events_total", channel="test", event="handled") == 1
    assert value(found, "xinfeng_channel_events_total", channel="test", event="redelivered") == 1
    assert value(found, "xinfeng_channel_events_total", channel="test", event="max_parallel") is None
    assert value(found, "xinfeng_inbound_lanes", channel="test") == 0
    # The reply to 帮助 waits (no relay here); statuses with no rows still have a series: alerts need them.
    assert [value(found, "xinfeng_outbox_messages", channel="test", status=s)
            for s in ("pending", "sending", "undeliverable")] == [1, 0, 0]
    assert value(found, "xinfeng_tasks", status="cancelled") == 0


async def test_http_requests_are_counted_by_route_pattern(sessions: Sessions, clock: FixedClock) -> None:
    metrics = Metrics(sessions=sessions, clock=clock)
    app = build_app(dashboard_routes(sessions, clock), Health(sessions=sessions, head=head_revision(), metrics=metrics))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot") as http:
        await http.get("/api/units/BP")
        await http.get("/api/units/TJ")
        await http.get("/no/such/page")
        found = samples((await http.get("/metrics")).text)
    assert value(found, "xinfeng_http_requests_total", route="/api/units/{code}", status="401") == 2
    assert value(found, "xinfeng_http_requests_total", route="unmatched", status="404") == 1


async def test_a_scrape_with_the_database_down_answers_at_once(clock: FixedClock) -> None:
    down = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/xinfeng")
    try:
        found = await scrape(Metrics(sessions=session_factory(down), clock=clock, db_timeout=1.0))
    finally:
        await down.dispose()
    assert value(found, "xinfeng_database_up") == 0
    assert not any(name.startswith(("xinfeng_tasks", "xinfeng_outbox")) for name, _ in found)


@pytest.fixture
async def ticking(sessions: Sessions, clock: FixedClock) -> AsyncIterator[tuple[Metrics, object]]:
    """A real scheduler (database lease) whose ticks report to the metrics; the first tick awaited."""
    import asyncio

    metrics = Metrics(sessions=sessions, clock=clock)
    ticked = asyncio.Event()

    async def after() -> None:
        ticked.set()

    aps = start_ticking(sessions, clock, after_tick=metrics.after_tick(after), lease=DbLease(sessions))
    metrics.watch(scheduler=aps)
    await asyncio.wait_for(ticked.wait(), timeout=30)
    yield metrics, aps
    await stop_ticking(aps)


async def test_the_scheduler_reports_its_ticks_and_leadership(ticking: tuple[Metrics, object]) -> None:
    metrics, _ = ticking
    found = await scrape(metrics)
    assert value(found, "xinfeng_scheduler_leader") == 1
    assert value(found, "xinfeng_scheduler_ticks_total") == 1
    assert value(found, "xinfeng_scheduler_last_tick_timestamp_seconds") == metrics.last_tick


async def test_warnings_and_errors_are_counted_by_logger(sessions: Sessions, clock: FixedClock) -> None:
    metrics = Metrics(sessions=sessions, clock=clock)
    logger = logging.getLogger("xinfeng.test.metrics")
    counting = LogCounter(metrics)
    logger.addHandler(counting)
    logger.setLevel(logging.INFO)  # INFO reaches the handler, which counts only warnings and worse
    try:
        logger.warning("one")
        logger.error("two")
        logger.error("three")
        logger.info("not counted")
    finally:
        logger.removeHandler(counting)
        logger.setLevel(logging.NOTSET)
    found = await scrape(metrics)
    assert value(found, "xinfeng_log_messages_total", level="WARNING", logger="xinfeng.test.metrics") == 1
    assert value(found, "xinfeng_log_messages_total", level="ERROR", logger="xinfeng.test.metrics") == 2
