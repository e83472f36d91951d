"""Two real `xinfeng run` workers behind a round-robin proxy, on PostgreSQL and Redis a test can break.

The cluster the fault scenarios (`test_cluster_*.py`) and `bench/cluster_latency.py` run:

- a PostgreSQL database of its own (created on the server `XINFENG_TEST_DATABASE_URL` names,
  migrated once before any worker starts, dropped WITH (FORCE) at the end), reached by the
  workers through a `TcpProxy` the test can cut or freeze;
- a `PrivateRedis` the test can kill and start again;
- the fake Telegram Bot API (`tests/bot/channels/telegram/fake_bot_api.py`) with Telegram's own
  limits (30/s for the bot, 1/s a chat), in this process, with people who have /start-ed the bot;
- two worker processes (`python -m bot.cli run`, webhook mode), each on its own HTTP port, and in
  front of them the webhook URL the fake pushes to: a round-robin HTTP proxy that answers 502
  for a try that meets a dead worker, so the fake's Telegram-like retry redelivers the update;
- seed data: the demo county and the cluster's volunteers in a team of their own at 北山村, each
  linked to a Telegram account, and an activity they can sign up for.

The processes are in `cluster_processes.py`, the database and its seed data in `cluster_data.py`.
Waits on the fake Bot API are woken by each message it receives (`FakeBotAPI.until`); what
cannot announce itself — a worker process's log, the scheduler's lease in Redis, the database
settling — is polled, bounded. The outages and the load run on real time: a 20 s freeze of
PostgreSQL is 20 s that two real processes live through.

Everything is stopped (and killed when it will not stop) when the `running_cluster` block ends,
whatever happened inside it. Ports are spare ones picked at start, so tests may run in parallel
(pytest-xdist); the database name is random.

Why real processes, not the in-process world of the Telegram tests: what is tested is what a
deployment does when a process dies by SIGKILL or its database goes away under it — the
startup path (`xinfeng run` migrating, registering, leading), the OS's sockets and the timing
of two event loops racing for the same rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the bench imports this file from outside the test run
    sys.path.insert(0, str(ROOT))

from tests.bot.channels.telegram.fake_bot_api import FakeBotAPI, FakeLimits, SentMessage  # noqa: E402
from tests.faults.cluster_data import FIRST_USER, Seeded, _admin, seed  # noqa: E402
from tests.faults.cluster_processes import RoundRobinProxy, Worker  # noqa: E402
from tests.faults.servers import PrivateRedis, TcpProxy, spare_port  # noqa: E402

TOKEN = "424242:CLUSTER-token"
SECRET = "cluster-Secret_1"
# The messages people write, in turn: a query, the help, a sign-up (an effect that must not double)
# and a free-text request (the intake's parser, drafts).
TEXTS = ("我的", "帮助", "报名 #{activity}", "明天上午能来帮我家院子打扫一下吗")
# Outbox states that mean "still owed" or "given up on".
UNFINISHED = ("pending", "sending")
GIVEN_UP = ("undeliverable", "failed")


def requirements() -> tuple[str, str]:
    """(PostgreSQL URL, redis-server path); skips the test when either is missing."""
    pg = os.environ.get("XINFENG_TEST_DATABASE_URL")
    if not pg or not pg.startswith("postgresql"):
        pytest.skip("the cluster runs on PostgreSQL: set XINFENG_TEST_DATABASE_URL")
    if not os.environ.get("XINFENG_TEST_REDIS_URL"):
        pytest.skip("the cluster runs with Redis: set XINFENG_TEST_REDIS_URL")
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    return pg, binary


# ---------------------------------------------------------------------------------------- the cluster


@dataclass
class Sent:
    """One update a user sent: when (monotonic, as the fake queued it) and what."""

    user: int
    update_id: int
    text: str
    at: float


@dataclass
class Cluster:
    """The running cluster; see the module's docstring."""

    fake: FakeBotAPI
    db_url: str  # direct, for the test's own checks
    pg_proxy: TcpProxy
    redis: PrivateRedis
    workers: list[Worker]
    balancer: RoundRobinProxy
    users: list[int]
    seeded: Seeded
    workdir: Path
    sent: list[Sent] = field(default_factory=list)
    _engine: Any = None

    # ------------------------------------------------------------------ people writing

    def text_for(self, index: int) -> str:
        return TEXTS[index % len(TEXTS)].format(activity=self.seeded.activity_id)

    def say(self, user: int, text: str) -> Sent:
        """`user` writes `text` to the bot (the fake pushes it to the webhook)."""
        update_id = self.fake.user_says(user, text)
        item = Sent(user, update_id, text, time.monotonic())
        self.sent.append(item)
        return item

    async def stream(self, users: Iterable[int], rate: float, texts: Any = None) -> list[Sent]:
        """Each user writes one message, `rate` a second, paced on the monotonic clock (not drifting)."""
        out = []
        began = time.monotonic()
        for n, user in enumerate(users):
            wait = began + n / rate - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            index = self.users.index(user)
            out.append(self.say(user, texts(index) if texts else self.text_for(index)))
        return out

    async def warm_up(self, timeout: float = 60.0) -> None:
        """Two people who are not among `users` write once each — one message to each worker, by the
        round robin — and are answered: both workers have loaded the request parser.

        A worker says "running" before its parser has loaded (that goes on in a thread); the first
        messages it gets wait for it, seconds on a small machine. The scenarios are about faults,
        not about a cold start, so they begin warm.
        """
        warmers = [FIRST_USER - 1, FIRST_USER - 2]
        items = []
        for uid in warmers:
            self.fake.add_user(uid, "预热")
            items.append(self.say(uid, "帮助"))
        try:
            await self.fake.until(lambda: all(any(m.received_at >= s.at for m in self.replies(s.user))
                                              for s in items), timeout)
        except AssertionError:
            raise TimeoutError(f"warm-up not answered in {timeout} s:\n{self.logs()[-3000:]}") from None

    # ------------------------------------------------------------------ what the fake received

    def replies(self, user: int) -> list[SentMessage]:
        return self.fake.sent_to(user)

    def answered(self, items: Iterable[Sent]) -> set[int]:
        """Users among `items` who have received at least one message after writing."""
        return {s.user for s in items if any(m.received_at >= s.at for m in self.replies(s.user))}

    async def until_answered(self, items: list[Sent], timeout: float) -> float:
        """Wait (bounded) until every user in `items` has an answer; the monotonic instant it happened."""
        want = {s.user for s in items}
        with contextlib.suppress(AssertionError):  # re-checked on every message the fake receives
            await self.fake.until(lambda: self.answered(items) >= want, timeout)
            return time.monotonic()
        missing = sorted(want - self.answered(items))
        raise AssertionError(f"{len(missing)} of {len(want)} never answered within {timeout} s, e.g. "
                             f"{missing[:10]}; fake stats {dict(self.fake.stats)}")

    def too_many_requests(self) -> int:
        """429s the fake answered, for any reason (bot-wide, per chat, per group)."""
        return sum(n for k, n in self.fake.stats.items() if k.startswith("429"))

    def duplicated_replies(self) -> dict[int, list[str]]:
        """Per user, the texts the fake received more than once (the same reply twice)."""
        out = {}
        for user in self.users:
            counts = Counter(m.text for m in self.replies(user))
            twice = [t[:40] for t, n in counts.items() if n > 1]
            if twice:
                out[user] = twice
        return out

    def extra_copies(self) -> Counter[int]:
        """Per user, how many messages the fake received beyond the first of each text."""
        out: Counter[int] = Counter()
        for user in self.users:
            for n in Counter(m.text for m in self.replies(user)).values():
                if n > 1:
                    out[user] += n - 1
        return out

    def counted_in_flight(self) -> int:
        """What the surviving workers logged as possibly sent twice: the sends a dead worker had in flight.

        The Bot API has no idempotency key: a message Telegram took in the instant before a worker
        was killed, before its journal noted it, is sent again by the worker taking over. Such
        copies are bounded by this count, which the product logs; any other copy is a bug.
        """
        return sum(int(n) for line in self.log_lines("may arrive twice")
                   for n in re.findall(r"(\d+) were in flight", line))

    def latencies(self, items: Iterable[Sent]) -> list[float]:
        """Seconds from each update's push to the first message its user received after it."""
        out = []
        for s in items:
            after = [m.received_at for m in self.replies(s.user) if m.received_at >= s.at]
            if after:
                out.append(min(after) - s.at)
        return out

    # ------------------------------------------------------------------ the database

    @property
    def engine(self) -> Any:
        if self._engine is None:
            from storage.db import create_engine

            self._engine = create_engine(self.db_url)
        return self._engine

    async def scalar(self, stmt: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(stmt)).scalar()

    async def rows(self, stmt: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(stmt)).all())

    async def settled(self, timeout: float = 30.0) -> None:
        """Wait (bounded) until every inbox row is handled and no outbox row is owed any more."""
        from storage.models import InboxMessage, OutboxMessage

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            unhandled = await self.scalar(select(func.count()).select_from(InboxMessage)
                                          .where(InboxMessage.status != "processed"))
            owed = await self.scalar(select(func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.status.in_(UNFINISHED)))
            if not unhandled and not owed and not self.fake.busy:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"not settled in {timeout:.1f} s: {await self.database_report()}; worker logs: "
                             f"{self.log_lines('is dead', 'taken for dead', 'ERROR')}")

    async def database_report(self) -> dict[str, Any]:
        """Inbox and outbox rows by status, the rows not as they should end, the registered workers."""
        from storage.models import DeliveryWorker, InboxMessage, OutboxMessage

        inbox = dict(await self.rows(select(InboxMessage.status, func.count()).group_by(InboxMessage.status)))
        outbox = dict(await self.rows(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)))
        odd_in = await self.rows(select(InboxMessage.id, InboxMessage.message_id, InboxMessage.status,
                                        InboxMessage.error).where(InboxMessage.status != "processed").limit(10))
        odd_out = await self.rows(select(OutboxMessage.id, OutboxMessage.address, OutboxMessage.status,
                                         OutboxMessage.kind, OutboxMessage.attempts, OutboxMessage.claimed_by,
                                         OutboxMessage.error)
                                  .where(OutboxMessage.status != "sent").limit(10))
        workers = await self.rows(select(DeliveryWorker.id, DeliveryWorker.name, DeliveryWorker.heartbeat_at))
        return {"inbox": inbox, "outbox": outbox, "odd_inbox": odd_in, "odd_outbox": odd_out,
                "delivery_workers": workers}

    async def check_database(self) -> None:
        """Every inbox row processed (none failed), every outbox row sent (none stuck, none given up)."""
        report = await self.database_report()
        assert set(report["inbox"]) <= {"processed"}, report
        assert set(report["outbox"]) <= {"sent"}, report

    async def signups(self) -> dict[int, int]:
        """Sign-up rows per volunteer on the seeded activity."""
        from storage.models import ActivitySignup

        rows = await self.rows(select(ActivitySignup.volunteer_id, func.count())
                               .where(ActivitySignup.activity_id == self.seeded.activity_id)
                               .group_by(ActivitySignup.volunteer_id))
        return dict(rows)

    async def check_outcomes(self, items: list[Sent]) -> None:
        """The scenario's promises about what people wrote: each answered, nothing doubled, no 429.

        - every user who wrote received an answer after writing;
        - nobody received the same text twice, but for copies of sends a killed worker had in
          flight (`counted_in_flight`);
        - each update has exactly one processed inbox row;
        - each sign-up made exactly one sign-up row, and no-one was told "您已经报名了";
        - the outbox rows sent to each user are exactly the messages the fake holds for them
          (a row sent twice would leave the fake one message more);
        - the fake answered no 429.
        """
        from storage.models import InboxMessage, OutboxMessage

        evidence = self.log_lines("is dead", "taken for dead", "ERROR", "Traceback")
        missing = {s.user for s in items} - self.answered(items)
        assert not missing, (sorted(missing)[:10], evidence)
        doubled, extra, in_flight = self.duplicated_replies(), self.extra_copies(), self.counted_in_flight()
        assert sum(extra.values()) <= in_flight, (
            f"{len(doubled)} people got the same reply twice, {in_flight} sends counted in flight",
            dict(list(doubled.items())[:5]), f"sendMessage {self.fake.stats['sendMessage']}", evidence)
        inbox = Counter(dict(await self.rows(select(InboxMessage.message_id, func.count())
                                             .group_by(InboxMessage.message_id))))
        assert len(inbox) == len(self.sent) and set(inbox.values()) == {1}, inbox.most_common(3)
        signers = {self.seeded.person_of[s.user] for s in self.sent if s.text.startswith("报名")}
        made = await self.signups()
        assert set(made) == signers and set(made.values()) <= {1}, made
        told_twice = [u for u in self.users if any("不用再报" in m.text for m in self.replies(u))]
        assert told_twice == []
        per_chat = Counter(dict(await self.rows(
            select(OutboxMessage.address, func.count()).where(OutboxMessage.platform == "telegram",
                                                               OutboxMessage.status == "sent")
            .group_by(OutboxMessage.address))))
        ours = {str(u) for u in self.users}
        per_chat = Counter({chat: n for chat, n in per_chat.items() if chat in ours})
        # A copy of an in-flight send is one message more at the fake than rows sent.
        at_fake = Counter({str(u): len(self.replies(u)) - extra[u] for u in self.users if self.replies(u)})
        assert per_chat == at_fake, {k: (per_chat[k], at_fake[k]) for k in set(per_chat) | set(at_fake)
                                     if per_chat[k] != at_fake[k]}
        assert self.too_many_requests() == 0, dict(self.fake.stats)

    def logs(self) -> str:
        return "\n".join(f"----- {w.name}\n{w.log_text()}" for w in self.workers)

    def log_lines(self, *needles: str) -> list[str]:
        """The workers' log lines containing any of `needles`."""
        return [f"{w.name}: {line}" for w in self.workers for line in w.log_text().splitlines()
                if any(n in line for n in needles)]

    # ------------------------------------------------------------------ the scheduler's lease

    async def leader(self) -> Worker | None:
        """The worker whose process holds the scheduler's Redis lease now (None: nobody, or Redis away)."""
        import redis.asyncio as redis_asyncio

        client = redis_asyncio.from_url(self.redis.url)
        try:
            holder = await client.get("xinfeng:lease:scheduler")
        except Exception:  # noqa: BLE001 — Redis away: nobody can be said to lead
            return None
        finally:
            await client.aclose()
        if holder is None:
            return None
        pid = int(holder.decode().split(":")[1])
        return next((w for w in self.workers if w.proc is not None and w.proc.pid == pid), None)


@asynccontextmanager
async def running_cluster(workdir: Path, *, people: int = 120, moral_day_now: bool = False,
                          webhook_retry_delay: float = 1.0, start_timeout: float = 90.0,
                          log_level: str = "WARNING", warm: bool = True) -> AsyncIterator[Cluster]:
    """A running cluster (see the module's docstring); everything stopped and dropped at the end.

    `warm`: each worker has answered a message before the block begins (see `Cluster.warm_up`).
    """
    pg, binary = requirements()
    workdir.mkdir(parents=True, exist_ok=True)
    name = "xf_cluster_" + uuid.uuid4().hex[:10]
    base = make_url(pg)
    db_url = base.set(database=name).render_as_string(hide_password=False)
    stack = contextlib.AsyncExitStack()
    cluster: Cluster | None = None
    async with stack:
        await _admin(pg, f'CREATE DATABASE "{name}"')
        stack.push_async_callback(_admin, pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        from storage.migrate import upgrade

        # Migrated once, here: each worker's own `migrate` at start then finds the head and does nothing.
        await asyncio.to_thread(upgrade, db_url)
        seeded = await seed(db_url, workdir, people, moral_day_now=moral_day_now)

        pg_proxy = TcpProxy(base.host or "127.0.0.1", base.port or 5432)
        await pg_proxy.start()
        stack.push_async_callback(pg_proxy.stop)
        redis = PrivateRedis(binary, spare_port())
        redis.start()
        stack.callback(redis.kill)

        fake = FakeBotAPI(TOKEN, limits=FakeLimits(), webhook_retry_delay=webhook_retry_delay)
        await fake.start()
        stack.push_async_callback(fake.stop)
        users = [FIRST_USER + i for i in range(people)]
        for i, uid in enumerate(users):
            fake.add_user(uid, f"集群志愿者{i:03d}")
            fake.started.add(uid)  # each has /start-ed the bot: it may write to them

        env = {k: v for k, v in os.environ.items() if not k.startswith("XINFENG_")}
        env.update({
            "PYTHONPATH": str(ROOT),
            "XINFENG_DATABASE_URL": base.set(database=name, host="127.0.0.1", port=pg_proxy.port)
            .render_as_string(hide_password=False),
            "XINFENG_REDIS_URL": redis.url,
            "XINFENG_TELEGRAM_TOKEN": TOKEN,
            "XINFENG_TELEGRAM_API_URL": fake.base_url,
            "XINFENG_TELEGRAM_MODE": "webhook",
            "XINFENG_TELEGRAM_WEBHOOK_SECRET": SECRET,
            "XINFENG_HTTP_HOST": "127.0.0.1",
            "XINFENG_LOG_LEVEL": log_level,
            "XINFENG_JOURNAL_DIR": str(workdir / "journal"),  # one host: each reads a dead one's journal
        })
        workers = [Worker(f"worker{i}", env, workdir) for i in (1, 2)]
        balancer = RoundRobinProxy(workers)
        await balancer.start()
        stack.push_async_callback(balancer.stop)
        for w in workers:
            w.env["XINFENG_TELEGRAM_WEBHOOK_URL"] = balancer.url
            stack.push_async_callback(w.stop)
        for w in workers:
            await w.start()
        await asyncio.gather(*(w.ready(start_timeout) for w in workers))
        assert fake.webhook is not None and fake.webhook["url"] == balancer.url
        cluster = Cluster(fake, db_url, pg_proxy, redis, workers, balancer, users, seeded, workdir)
        stack.push_async_callback(lambda: cluster._engine.dispose() if cluster._engine else asyncio.sleep(0))
        if warm:
            await cluster.warm_up()
        yield cluster


@dataclass
class Outcome:
    """How a scenario went, for its assertion messages and the report."""

    items: list[Sent]
    broke_at: float
    healed_at: float
    all_answered_at: float
    took: float

    @property
    def answered_after_healing(self) -> float:
        """Seconds from the end of the outage until the last person who wrote had an answer."""
        return max(0.0, self.all_answered_at - self.healed_at)

    def line(self, name: str, cluster: Cluster) -> str:
        return (f"[{name}] {len(self.items)} updates; outage {self.healed_at - self.broke_at:.1f} s; all answered "
                f"{self.answered_after_healing:.1f} s after recovery; latency {summary(cluster.latencies(self.items))};"
                f" fake {dict(cluster.fake.stats)}; balancer {dict(cluster.balancer.answers)}")


async def outage_while_flowing(cluster: Cluster, *, break_: Any, heal: Any, outage: float, break_after: float = 2.0,
                               rate: float = 20.0, within: float = 30.0) -> Outcome:
    """Every user writes one message at `rate`/s; `break_after` s in, `break_()`; `outage` s later, `heal()`.

    Then waits for every user to have an answer — at most `within` s after healing (the promise
    under test) — and for the database to settle. `break_`/`heal` may be plain or async callables.
    """
    began = time.monotonic()
    flowing = asyncio.create_task(cluster.stream(cluster.users, rate))
    try:
        await asyncio.sleep(break_after)
        broke_at = time.monotonic()
        result = break_()
        if asyncio.iscoroutine(result):
            await result
        await asyncio.sleep(max(0.0, broke_at + outage - time.monotonic()))
        result = heal()
        if asyncio.iscoroutine(result):
            await result
        healed_at = time.monotonic()
        items = await flowing
    finally:
        flowing.cancel()
    answered_at = await cluster.until_answered(items, timeout=max(0.1, healed_at + within - time.monotonic()))
    await cluster.settled(timeout=max(5.0, healed_at + within - time.monotonic()))
    return Outcome(items, broke_at, healed_at, answered_at, time.monotonic() - began)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100), nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def summary(values: list[float]) -> str:
    if not values:
        return "no values"
    return (f"n={len(values)} p50={percentile(values, 50):.3f}s p95={percentile(values, 95):.3f}s "
            f"p99={percentile(values, 99):.3f}s max={max(values):.3f}s mean={statistics.mean(values):.3f}s")
