"""One contract for the rate limiters, run on the in-process and the Redis backend.

Time is a fake clock that the limiter's sleeper advances, so no test sleeps.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from bot.delivery.ratelimit import Limit, MemoryRateLimiter, RedisRateLimiter

REDIS_URL = os.environ.get("XINFENG_TEST_REDIS_URL")
BACKENDS = ["memory"] + (["redis"] if REDIS_URL else [])


class FakeTime:
    """A clock in seconds that moves only when someone sleeps on it.

    A sleeper wakes at (the time it last read) + (its wait); the clock never runs backwards,
    so concurrent sleepers model tasks that wake at their deadline or a little after it.
    Each task remembers the last time it read, which for a limiter is its admission time.
    """

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.t = start
        self.slept: list[float] = []
        self.last_read: contextvars.ContextVar[float] = contextvars.ContextVar("last_read")

    def now(self) -> float:
        self.last_read.set(self.t)
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t = max(self.t, self.last_read.get(self.t) + seconds)
        await asyncio.sleep(0)  # let other acquirers run, as a real sleep would


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


async def _redis_client() -> object:
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    client.test_prefix = f"xinfeng-test:{uuid.uuid4().hex[:10]}:"  # type: ignore[attr-defined]
    return client


async def _drop_redis_client(client: object) -> None:
    keys = [k async for k in client.scan_iter(match=client.test_prefix + "*")]  # type: ignore[attr-defined]
    if keys:
        await client.delete(*keys)  # type: ignore[attr-defined]
    await client.aclose()  # type: ignore[attr-defined]


@pytest.fixture
async def redis_conn() -> AsyncIterator[object]:
    if not REDIS_URL:
        pytest.skip("XINFENG_TEST_REDIS_URL not set")
    client = await _redis_client()
    yield client
    await _drop_redis_client(client)


@pytest.fixture(params=BACKENDS)
async def make_limiter(request: pytest.FixtureRequest, fake_time: FakeTime) -> AsyncIterator[Callable[[], object]]:
    """A factory: each call is another worker sharing the same backend and budget."""
    if request.param == "memory":
        shared = MemoryRateLimiter(now=fake_time.now, sleep=fake_time.sleep)
        yield lambda: shared
        return
    conn = await _redis_client()
    yield lambda: RedisRateLimiter(conn, prefix=conn.test_prefix, now=fake_time.now, sleep=fake_time.sleep)
    await _drop_redis_client(conn)


def _max_in_any_window(times: list[float], period: float) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - period:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


class TestRateLimiterContract:
    async def test_allows_the_limit_then_says_how_long_to_wait(self, make_limiter, fake_time) -> None:
        rl = make_limiter()
        for _ in range(3):
            assert await rl.try_acquire("chat:1", limit=3, period=1.0) == 0.0
        fake_time.t += 0.25
        assert await rl.try_acquire("chat:1", limit=3, period=1.0) == pytest.approx(0.75)

    async def test_window_slides_exactly(self, make_limiter, fake_time) -> None:
        rl = make_limiter()
        start = fake_time.t
        assert await rl.try_acquire("k", limit=2, period=1.0) == 0.0
        fake_time.t = start + 0.5
        assert await rl.try_acquire("k", limit=2, period=1.0) == 0.0
        fake_time.t = start + 0.999
        assert await rl.try_acquire("k", limit=2, period=1.0) == pytest.approx(0.001, abs=1e-6)
        fake_time.t = start + 1.0  # the first event leaves the window exactly now
        assert await rl.try_acquire("k", limit=2, period=1.0) == 0.0
        assert await rl.try_acquire("k", limit=2, period=1.0) == pytest.approx(0.5)

    async def test_keys_are_independent(self, make_limiter) -> None:
        rl = make_limiter()
        assert await rl.try_acquire("chat:1", limit=1, period=1.0) == 0.0
        assert await rl.try_acquire("chat:2", limit=1, period=1.0) == 0.0
        assert await rl.try_acquire("chat:1", limit=1, period=1.0) > 0

    async def test_a_denied_key_takes_nothing_from_the_others(self, make_limiter) -> None:
        rl = make_limiter()
        glob, chat = Limit("global", 10, 1.0), Limit("chat:7", 1, 1.0)
        assert await rl.try_acquire_all([glob, chat]) == 0.0
        for _ in range(5):
            assert await rl.try_acquire_all([glob, chat]) > 0  # chat:7 is full
        # The five denials consumed none of the global budget: nine slots are left.
        for n in range(9):
            assert await rl.try_acquire_all([glob, Limit(f"chat:{100 + n}", 1, 1.0)]) == 0.0
        assert await rl.try_acquire_all([glob, Limit("chat:999", 1, 1.0)]) > 0

    async def test_workers_share_one_budget(self, make_limiter) -> None:
        a, b = make_limiter(), make_limiter()
        assert await a.try_acquire("bot", limit=2, period=1.0) == 0.0
        assert await b.try_acquire("bot", limit=2, period=1.0) == 0.0
        assert await a.try_acquire("bot", limit=2, period=1.0) > 0
        assert await b.try_acquire("bot", limit=2, period=1.0) > 0

    async def test_acquire_waits_on_the_injected_sleeper(self, make_limiter, fake_time) -> None:
        rl = make_limiter()
        start = fake_time.t
        for _ in range(3):
            await rl.acquire("chat:1", limit=1, period=1.0)
        assert fake_time.t == pytest.approx(start + 2.0)
        assert sum(fake_time.slept) == pytest.approx(2.0)

    async def test_many_concurrent_senders_never_exceed_the_limit(self, make_limiter, fake_time) -> None:
        workers = [make_limiter() for _ in range(3)]
        times: list[float] = []

        async def send(i: int) -> None:
            await workers[i % 3].acquire_all([Limit("global", 5, 1.0), Limit(f"chat:{i % 4}", 2, 1.0)])
            times.append(fake_time.last_read.get())

        await asyncio.gather(*(send(i) for i in range(40)))
        assert len(times) == 40
        assert _max_in_any_window(times, 1.0) <= 5
        # The limiter paces rather than starves: 40 events at 5/s take about 8 seconds.
        assert max(times) - min(times) < 9.0

    async def test_invalid_limits_are_refused(self, make_limiter) -> None:
        rl = make_limiter()
        with pytest.raises(ValueError):
            await rl.try_acquire("k", limit=0, period=1.0)
        with pytest.raises(ValueError):
            await rl.try_acquire("k", limit=1, period=0)


async def test_redis_uses_the_server_clock_when_none_is_injected(redis_conn) -> None:
    rl = RedisRateLimiter(redis_conn, prefix=redis_conn.test_prefix)
    assert await rl.try_acquire("k", limit=2, period=30.0) == 0.0
    assert await rl.try_acquire("k", limit=2, period=30.0) == 0.0
    wait = await rl.try_acquire("k", limit=2, period=30.0)
    assert 29.0 < wait <= 30.0
    ttl = await redis_conn.pttl(redis_conn.test_prefix + "k")
    assert 30_000 < ttl <= 31_000  # idle keys expire by themselves


async def test_a_dead_workers_held_slots_end_when_it_is_taken_over(redis_conn, fake_time) -> None:
    def worker(name: str) -> RedisRateLimiter:
        return RedisRateLimiter(redis_conn, prefix=redis_conn.test_prefix, owner=name, now=fake_time.now,
                                sleep=fake_time.sleep)

    chat = [Limit("chat:7", 1, 1.0)]
    dead, alive, bystander = worker("host:101"), worker("host:202"), worker("host:10")
    assert not isinstance(await dead.try_take(chat, hold=45.0), float)  # then killed mid-send
    other = [Limit("chat:8", 1, 1.0)]
    assert not isinstance(await bystander.try_take(other, hold=45.0), float)  # alive, sending
    fake_time.t += 10
    assert await alive.try_take(chat, hold=45.0) > 0  # the hold would keep the chat shut for 45 s
    await alive.end_held("host:101", chat + other)
    fake_time.t += 0.5
    assert await alive.try_take(chat, hold=45.0) > 0  # ended now: one chat interval more, not 35 s
    fake_time.t += 0.5
    assert not isinstance(await alive.try_take(chat, hold=45.0), float)
    assert await alive.try_take(other, hold=45.0) > 0  # "host:10" is not "host:101"'s prefix: still held


async def test_memory_forgets_idle_keys(fake_time) -> None:
    rl = MemoryRateLimiter(now=fake_time.now, sleep=fake_time.sleep)
    rl.SWEEP_EVERY = 10
    for n in range(10):
        await rl.try_acquire(f"chat:{n}", limit=1, period=1.0)
    fake_time.t += 2
    for n in range(10, 20):
        await rl.try_acquire(f"chat:{n}", limit=1, period=1.0)
    assert len(rl._windows) == 10
