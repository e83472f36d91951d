"""`/healthz`, `/readyz` and `/metrics` on the bot's HTTP server, and `xinfeng run` serving them.

Ready means: the database answers, its schema is at the code's migration head, Redis answers
when configured, and the relay and scheduler loops run. Each test breaks one of those for real
(an engine on a closed port, a database one migration behind, a cancelled task, a stopped
scheduler, a clock moved past the loops' last signs of life) and reads the 503's reasons.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.metrics import Metrics
from bot.runtime import build_runtime
from bot.service import serve
from bot.settings import Settings
from bot.web import Health, build_app
from handlers.core.messages import OutboundMessage
from storage.clock import FixedClock
from storage.db import create_engine, session_factory
from storage.messaging.outcomes import Delivered
from storage.migrate import head_revision
from tests.bot.monitoring import (
    FakeClock,
    Loops,
    closed_port,
    revision_before_head,
    running_loops,
    samples,
    stamp,
    unstamp,
    url_of,
    value,
)


@contextlib.asynccontextmanager
async def client(health: Health | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the bot's app (no routes but its own)."""
    transport = httpx.ASGITransport(app=build_app([], health))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
        yield http


def health_on(engine: AsyncEngine, clock: FixedClock, loops: Loops, now: FakeClock | None = None,
              redis: object = None) -> Health:
    """Readiness over a database, with the given loops watched."""
    sessions = session_factory(engine)
    metrics = Metrics(sessions=sessions, clock=clock, **({"now": now} if now else {}))
    metrics.watch(relay=loops.relay, scheduler=loops.scheduler)
    return Health(sessions=sessions, head=head_revision(), metrics=metrics, redis=redis)  # type: ignore[arg-type]


@pytest.fixture
async def stamped(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The test database, recorded as migrated to the head."""
    await stamp(engine, "head")
    yield engine
    await unstamp(engine)


async def test_healthz_says_ok_without_asking_anything() -> None:
    async with client() as http:
        answer = await http.get("/healthz")
    assert (answer.status_code, answer.text) == (200, "ok")


async def test_ready_when_database_schema_and_loops_are_fine(stamped: AsyncEngine, clock: FixedClock) -> None:
    async with running_loops() as loops, client(health_on(stamped, clock, loops)) as http:
        answer = await http.get("/readyz")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ready"] is True
    assert body["checks"]["migrations"] == {"ok": True, "revision": head_revision()}
    assert body["checks"]["redis"] == {"ok": True, "configured": False}
    assert {name: check["ok"] for name, check in body["checks"].items()} == dict.fromkeys(
        ["database", "migrations", "redis", "relay", "scheduler"], True)


async def test_database_down_is_503_but_alive_and_metrics_still_answer(clock: FixedClock) -> None:
    down = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/xinfeng")
    try:
        async with running_loops() as loops:
            health = health_on(down, clock, loops)
            async with client(health) as http:
                ready, alive = await http.get("/readyz"), await http.get("/healthz")
                metrics = await http.get("/metrics")
    finally:
        await down.dispose()
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"]["ok"] is False and "Connect" in checks["database"]["error"]
    assert checks["migrations"] == {"ok": False, "error": "database not reachable"}
    assert checks["relay"]["ok"] and checks["scheduler"]["ok"]  # only what is wrong is reported wrong
    assert alive.status_code == 200
    assert metrics.status_code == 200
    found = samples(metrics.text)
    assert value(found, "xinfeng_database_up") == 0
    assert value(found, "xinfeng_outbox_oldest_due_seconds") is None  # no stale numbers shown as current


async def test_a_database_one_migration_behind_is_not_ready(engine: AsyncEngine, clock: FixedClock) -> None:
    behind = revision_before_head()
    await stamp(engine, behind)
    try:
        async with running_loops() as loops, client(health_on(engine, clock, loops)) as http:
            answer = await http.get("/readyz")
    finally:
        await unstamp(engine)
    assert answer.status_code == 503
    check = answer.json()["checks"]["migrations"]
    assert (check["ok"], check["revision"], check["head"]) == (False, behind, head_revision())
    assert "xinfeng db upgrade" in check["error"]
    assert answer.json()["checks"]["database"] == {"ok": True}


async def test_a_database_never_migrated_is_not_ready(engine: AsyncEngine, clock: FixedClock) -> None:
    await unstamp(engine)
    async with running_loops() as loops, client(health_on(engine, clock, loops)) as http:
        answer = await http.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["migrations"]["error"].startswith("database never migrated")


async def test_a_relay_loop_that_died_makes_the_worker_unready(stamped: AsyncEngine, clock: FixedClock) -> None:
    async with running_loops() as loops, client(health_on(stamped, clock, loops)) as http:
        assert (await http.get("/readyz")).status_code == 200
        assert loops.relay is not None
        loops.relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loops.relay
        answer = await http.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["relay"] == {"ok": False, "error": "stopped"}
    assert answer.json()["checks"]["scheduler"]["ok"] is True


async def test_a_crashed_relay_says_why(stamped: AsyncEngine, clock: FixedClock) -> None:
    async def crash() -> None:
        raise RuntimeError("relay bug")

    async with running_loops() as loops:
        assert loops.relay is not None
        loops.relay.cancel()  # the healthy stand-in makes way for one that crashes
        loops.relay = asyncio.create_task(crash())
        with contextlib.suppress(RuntimeError):
            await loops.relay
        async with client(health_on(stamped, clock, loops)) as http:
            answer = await http.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["relay"]["error"] == "stopped: RuntimeError('relay bug')"


async def test_a_stopped_scheduler_makes_the_worker_unready(stamped: AsyncEngine, clock: FixedClock) -> None:
    async with running_loops() as loops, client(health_on(stamped, clock, loops)) as http:
        assert loops.scheduler is not None
        loops.scheduler.shutdown(wait=False)
        answer = await http.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["scheduler"] == {"ok": False, "error": "stopped"}


async def test_loops_that_stop_showing_life_make_the_worker_unready(stamped: AsyncEngine, clock: FixedClock) -> None:
    now = FakeClock()
    async with running_loops() as loops:
        health = health_on(stamped, clock, loops, now=now)
        health.metrics.relay_round("ok", 0)
        health.metrics.tick_done()
        async with client(health) as http:
            now.t += 60
            fresh = await http.get("/readyz")
            now.t += 600  # a round hangs, the tick never comes back
            stale = await http.get("/readyz")
    assert fresh.status_code == 200
    assert stale.status_code == 503
    checks = stale.json()["checks"]
    assert checks["relay"]["error"] == "no round finished for 660 s"
    assert checks["scheduler"]["error"] == "no tick finished for 660 s"


async def test_redis_down_is_503_when_configured(stamped: AsyncEngine, clock: FixedClock) -> None:
    import redis.asyncio as redis

    down = redis.from_url(f"redis://127.0.0.1:{closed_port()}/0")
    try:
        async with running_loops() as loops, client(health_on(stamped, clock, loops, redis=down)) as http:
            answer = await http.get("/readyz")
    finally:
        await down.aclose()
    assert answer.status_code == 503
    assert answer.json()["checks"]["redis"]["ok"] is False
    assert "ConnectionError" in answer.json()["checks"]["redis"]["error"]


async def test_redis_up_is_ready(stamped: AsyncEngine, clock: FixedClock, redis_client: object) -> None:
    async with running_loops() as loops, client(health_on(stamped, clock, loops, redis=redis_client)) as http:
        answer = await http.get("/readyz")
    assert answer.status_code == 200, answer.text
    assert answer.json()["checks"]["redis"] == {"ok": True}


class QuietChannel:
    """A chat channel with nothing to receive, that delivers whatever it is given."""

    platform = "quiet"

    async def send(self, message: OutboundMessage) -> Delivered:
        return Delivered("1")

    def routes(self) -> list:
        return []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


async def test_xinfeng_run_serves_health_readiness_and_metrics(stamped: AsyncEngine, caplog: pytest.LogCaptureFixture
                                                               ) -> None:
    settings = Settings(database_url=url_of(stamped), redis_url=None, http_host="127.0.0.1", http_port=closed_port(),
                        telegram_token=None, wechat_token=None, wecom_corp_id=None)
    rt = await build_runtime(settings)
    stop = asyncio.Event()
    caplog.set_level(logging.WARNING, logger="bot.service")
    running = asyncio.create_task(serve(settings, rt, [QuietChannel()], stop=stop))  # type: ignore[list-item]
    base = f"http://127.0.0.1:{settings.http_port}"
    try:
        # Connection attempts are retried (with httpx's back-off) until the server listens.
        async with httpx.AsyncClient(base_url=base, transport=httpx.AsyncHTTPTransport(retries=8)) as http:
            alive = await http.get("/healthz")
            ready = await http.get("/readyz")
            metrics = await http.get("/metrics")
    finally:
        stop.set()
        await running
        await rt.close()
    assert alive.status_code == 200
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["relay"] == {"ok": True}
    found = samples(metrics.text)
    assert value(found, "xinfeng_database_up") == 1
    assert value(found, "xinfeng_relay_rounds_total", result="ok") >= 1  # type: ignore[operator]
    assert value(found, "xinfeng_http_requests_total", route="/readyz", status="200") == 1
    assert any("xinfeng running: quiet" in r.getMessage() for r in caplog.records)
