"""Prometheus metrics of one `xinfeng run` process, and the signs of life of its loops.

Where each number comes from:
- inbound, per channel: the channel kit's own counters (`ChannelKit.stats`: handled,
  redelivered, recovered; on Telegram also unreadable, webhook_forbidden, webhook_malformed,
  retry_after — a 429 waited out —, network_retry, sent, edited), read at scrape time as
  `xinfeng_channel_events_total{channel,event}`, and the kit's busy lanes;
- outbound: the relay sends through `TimedChannel`, which times each send and counts its
  outcome (delivered, throttled, recipient_gone, …);
- the relay's rounds (`ObservedRelay`) and the scheduler's ticks and leadership;
- HTTP requests per route and status (`bot.web.RequestCounter`), warnings and errors per
  logger (`bot.logs.LogCounter`);
- the database, read at scrape time under a short timeout: outbox rows owed, in flight and
  undeliverable, the age of the oldest row owed, tasks by status.
Counters count since this process started; the database gauges read the same from every worker.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from bot.delivery.relay import Relay
from handlers.core.messages import OutboundMessage
from storage.clock import Clock
from storage.db import Sessions
from storage.messaging.outcomes import DeliveryOutcome
from storage.metrics import OPEN_OUTBOX, oldest_due, outbox_counts, task_counts

# Each counter's "_created" timestamp series would double the exposition for nothing Prometheus uses.
disable_created_metrics()

Now = Callable[[], float]
# A send takes milliseconds, or seconds when the rate limiter makes it wait its turn.
SEND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# A relay round ends at least every second when idle; a scheduler tick every minute.
RELAY_STALE = 120.0
SCHEDULER_STALE = 180.0
TICK_JOB = "xinfeng-tick"


def outcome_name(outcome: object) -> str:
    """A delivery outcome as a label: RecipientGone → recipient_gone."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(outcome).__name__).lower()


def channel_counters(channel: object) -> Mapping[str, int]:
    """The counters a channel's kit keeps (a channel without a kit: its own `stats`, or none)."""
    kit = getattr(channel, "kit", None)
    stats = getattr(kit if kit is not None else channel, "stats", None)
    return stats if isinstance(stats, Mapping) else {}


@dataclass
class DatabaseView:
    """What the last scrape read from the database."""

    up: bool = False
    seconds: float = 0.0
    outbox: dict[tuple[str, str], int] = field(default_factory=dict)
    oldest_due_age: float | None = None
    tasks: dict[str, int] = field(default_factory=dict)


class Metrics:
    """One process's registry, the instruments its running parts report to, and their signs of life."""

    def __init__(self, *, sessions: Sessions, clock: Clock, channels: Iterable[object] = (),
                 db_timeout: float = 2.0, now: Now = time.time) -> None:
        self.sessions = sessions
        self.clock = clock
        self.channels = list(channels)
        self.db_timeout = db_timeout
        self.now = now
        self.started = now()
        self.last_round: float | None = None
        self.last_tick: float | None = None
        self.relay_task: asyncio.Task[Any] | None = None
        self.scheduler: Any = None  # apscheduler's AsyncIOScheduler, as `start_ticking` returns it
        self.view = DatabaseView()
        r = self.registry = CollectorRegistry()
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.send_seconds = Histogram("xinfeng_send_seconds", "Time to send one outbox message, by channel",
                                      ["channel"], buckets=SEND_BUCKETS, registry=r)
        self.deliveries = Counter("xinfeng_deliveries", "Sends by channel and outcome (delivered, throttled, …)",
                                  ["channel", "outcome"], registry=r)
        self.relay_rounds = Counter("xinfeng_relay_rounds", "Outbox relay rounds, by result", ["result"], registry=r)
        self.relay_rows = Gauge("xinfeng_relay_last_round_rows", "Outbox rows the last relay round took up",
                                registry=r)
        self.relay_time = Gauge("xinfeng_relay_last_round_timestamp_seconds", "When the last relay round ended",
                                registry=r)
        self.ticks = Counter("xinfeng_scheduler_ticks", "Scheduler ticks finished (leading or standing by)",
                             registry=r)
        self.tick_time = Gauge("xinfeng_scheduler_last_tick_timestamp_seconds", "When the last tick finished",
                               registry=r)
        self.http = Counter("xinfeng_http_requests", "HTTP requests by route and status", ["route", "status"],
                            registry=r)
        self.logged = Counter("xinfeng_log_messages", "Warnings and errors logged, by level and logger",
                              ["level", "logger"], registry=r)
        r.register(_Live(self))

    # ------------------------------------------------------------------ what the running parts report

    def relay_round(self, result: str, rows: int) -> None:
        """A relay round ended (ok or failed), having taken up `rows` rows."""
        self.last_round = self.now()
        self.relay_rounds.labels(result).inc()
        self.relay_rows.set(rows)
        self.relay_time.set(self.last_round)

    def tick_done(self) -> None:
        """A scheduler tick finished."""
        self.last_tick = self.now()
        self.ticks.inc()
        self.tick_time.set(self.last_tick)

    def after_tick(self, then: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        """The scheduler's after-tick hook: note the tick, then run `then` (the relay's round)."""

        async def hook() -> None:
            self.tick_done()
            await then()

        return hook

    def watch(self, *, relay: asyncio.Task[Any] | None = None, scheduler: Any = None) -> None:
        """Follow the relay loop's task and the scheduler, for readiness and the leader gauge."""
        if relay is not None:
            self.relay_task = relay
        if scheduler is not None:
            self.scheduler = scheduler

    # ------------------------------------------------------------------ signs of life

    def relay_problem(self) -> str | None:
        """What is wrong with the relay loop, or None while it runs and its rounds end."""
        task = self.relay_task
        if task is None:
            return "not started"
        if task.done():
            failure = None if task.cancelled() else task.exception()
            return f"stopped: {failure!r}" if failure else "stopped"
        return self._stale(self.last_round, RELAY_STALE, "round")

    def scheduler_problem(self) -> str | None:
        """What is wrong with the scheduler, or None while it runs and ticks."""
        aps = self.scheduler
        if aps is None:
            return "not started"
        if not aps.running or aps.get_job(TICK_JOB) is None:
            return "stopped"
        return self._stale(self.last_tick, SCHEDULER_STALE, "tick")

    def _stale(self, last: float | None, limit: float, what: str) -> str | None:
        since = self.now() - (last if last is not None else self.started)
        if since <= limit:
            return None
        if last is None:
            return f"no {what} since start {since:.0f} s ago"
        return f"no {what} finished for {since:.0f} s"

    @property
    def leading(self) -> bool | None:
        """Whether this process's scheduler leads (None: no scheduler here)."""
        sched = getattr(self.scheduler, "xinfeng_scheduler", None)
        return None if sched is None else bool(sched.leading)

    # ------------------------------------------------------------------ scraping

    async def read_database(self) -> DatabaseView:
        """Read the database's gauges, giving up after `db_timeout` seconds (then: down)."""
        start = time.perf_counter()
        view = DatabaseView()
        try:
            async with asyncio.timeout(self.db_timeout):
                async with self.sessions() as session:
                    now = self.clock.now()
                    view.outbox = await outbox_counts(session)
                    oldest = await oldest_due(session, now)
                    view.tasks = await task_counts(session)
            view.oldest_due_age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
            view.up = True
        except Exception:  # down, slow or refusing: the scrape still answers, with database_up 0
            logging.getLogger(__name__).debug("metrics: database not read", exc_info=True)
        view.seconds = time.perf_counter() - start
        return view

    async def scrape(self) -> bytes:
        """The metrics in Prometheus' text format, the database read afresh."""
        self.view = await self.read_database()
        return generate_latest(self.registry)


class _Live:
    """Metrics read from the running parts and the last database view at collection time."""

    def __init__(self, metrics: Metrics) -> None:
        self.m = metrics

    def describe(self) -> list[Metric]:
        """Nothing to describe ahead: the families depend on what is running."""
        return []

    def collect(self) -> Iterator[Metric]:
        """The channels' counters, leadership and the database's gauges."""
        events = CounterMetricFamily("xinfeng_channel_events", "Channel kit counters (handled, redelivered, "
                                     "retry_after, …) by channel and event", labels=["channel", "event"])
        lanes = GaugeMetricFamily("xinfeng_inbound_lanes", "Chats with messages waiting or being handled",
                                  labels=["channel"])
        for channel in self.m.channels:
            platform = str(getattr(channel, "platform", "?"))
            for event, count in sorted(channel_counters(channel).items()):
                if event != "max_parallel":  # a high-water mark, not a count
                    events.add_metric([platform, event], count)
            busy = getattr(getattr(channel, "kit", None), "lanes", None)
            if isinstance(busy, int):
                lanes.add_metric([platform], busy)
        yield events
        yield lanes
        if (leading := self.m.leading) is not None:
            yield GaugeMetricFamily("xinfeng_scheduler_leader", "1 while this process's scheduler leads",
                                    value=int(leading))
        v = self.m.view
        yield GaugeMetricFamily("xinfeng_database_up", "1 when the last scrape could read the database",
                                value=int(v.up))
        yield GaugeMetricFamily("xinfeng_database_scrape_seconds", "Time the last scrape spent on the database",
                                value=v.seconds)
        if not v.up:
            return
        outbox = GaugeMetricFamily("xinfeng_outbox_messages", "Outbox rows pending, sending or undeliverable",
                                   labels=["channel", "status"])
        # This process's channels always show, at 0 when nothing is owed: an alert needs a series to watch.
        counts = {(str(getattr(c, "platform", "?")), status): 0 for c in self.m.channels for status in OPEN_OUTBOX}
        counts.update(v.outbox)
        for (platform, status), count in sorted(counts.items()):
            outbox.add_metric([platform, status], count)
        yield outbox
        yield GaugeMetricFamily("xinfeng_outbox_oldest_due_seconds", "Age of the oldest message owed and due now",
                                value=v.oldest_due_age or 0.0)
        tasks = GaugeMetricFamily("xinfeng_tasks", "Tasks by status", labels=["status"])
        for status, count in sorted(v.tasks.items()):
            tasks.add_metric([status], count)
        yield tasks


class TimedChannel:
    """A channel as the relay sees it: each send timed and its outcome counted."""

    def __init__(self, inner: Any, metrics: Metrics) -> None:
        self.inner = inner
        self.platform: str = inner.platform
        self.metrics = metrics

    @property
    def concurrency(self) -> int:
        """How many chats the relay may send to at once through this channel (the inner channel's)."""
        return int(getattr(self.inner, "concurrency", 1))

    async def end_held(self, owner: str, addresses: Sequence[str]) -> None:
        """The inner channel's `end_held` (a dead worker's rate-limit slots), if it has one."""
        end_held = getattr(self.inner, "end_held", None)
        if end_held is not None:
            await end_held(owner, addresses)

    async def send(self, message: OutboundMessage) -> DeliveryOutcome:
        """Send through the inner channel, timing it and counting the outcome ("error" if it raised)."""
        start = time.perf_counter()
        outcome: object = None
        try:
            outcome = await self.inner.send(message)
            return outcome  # type: ignore[no-any-return]
        finally:
            label = outcome_name(outcome) if isinstance(outcome, DeliveryOutcome) else "error"
            self.metrics.send_seconds.labels(self.platform).observe(time.perf_counter() - start)
            self.metrics.deliveries.labels(self.platform, label).inc()


class ObservedRelay(Relay):
    """The outbox relay, reporting each round's end: the relay loop's sign of life."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    async def deliver_pending(self, limit: int = 200) -> int:
        """Deliver what is owed (see `Relay.deliver_pending`) and report the round."""
        try:
            sent = await super().deliver_pending(limit)
        except Exception:
            self.metrics.relay_round("failed", 0)
            raise
        self.metrics.relay_round("ok", self.last_round)
        return sent
