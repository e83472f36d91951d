"""Redis down → degrade, never lose: the shared limiter falls back to this worker's share and comes back.

Each test owns a redis-server on a spare port (`tests.faults.servers`) and kills it with SIGKILL;
the shared test Redis is never touched.
"""

from __future__ import annotations

import uuid

import redis.asyncio as redis

from bot.delivery.failover import FailoverRateLimiter, share_of
from bot.delivery.ratelimit import Limit, RedisRateLimiter, Slot
from tests.bot.delivery.test_ratelimit import FakeTime
from tests.faults.servers import PrivateRedis, private_redis  # noqa: F401 — the fixture


def test_a_share_never_exceeds_the_limit_over_all_workers() -> None:
    assert share_of(Limit("g", 25, 1.0), 2) == Limit("g", 12, 1.0)
    assert share_of(Limit("chat", 1, 1.0), 3) == Limit("chat", 1, 3.0)  # cannot be cut: slower instead
    assert share_of(Limit("g", 25, 1.0), 1) == Limit("g", 25, 1.0)


async def _taken(limiter: FailoverRateLimiter, limits: list[Limit]) -> int:
    """How many slots the limiter grants at this instant."""
    n = 0
    while isinstance(await limiter.try_take(limits), Slot):
        n += 1
    return n


async def test_the_limiter_keeps_to_its_share_while_redis_is_down_and_shares_again_after(
        private_redis: PrivateRedis) -> None:  # noqa: F811
    t = FakeTime()
    client = redis.from_url(private_redis.url, socket_timeout=0.5, socket_connect_timeout=0.5)
    primary = RedisRateLimiter(client, prefix=f"t:{uuid.uuid4().hex[:8]}:", now=t.now, timeout=0.5)
    limiter = FailoverRateLimiter(primary, workers=lambda: 2, probe_every=1.0, now=t.now, sleep=t.sleep)
    limits = [Limit("all", 10, 1.0)]
    try:
        assert await _taken(limiter, limits) == 10  # one budget, in Redis
        private_redis.kill()
        # Down: no error reaches the sender, and nothing is sent until the shared window has passed.
        wait = await limiter.try_take(limits)
        assert isinstance(wait, float) and 0 < wait <= 1.0
        assert limiter.degraded and limiter.stats["limiter_fallback"] == 1
        t.t += 1.0
        assert await _taken(limiter, limits) == 5  # 10 per second between two workers: 5 each
        t.t += 1.0
        assert await _taken(limiter, limits) == 5
        private_redis.start()
        t.t += 1.0
        assert await _taken(limiter, limits) == 5  # back, but the shares decide while Redis catches up
        assert limiter.stats["limiter_recovered"] == 1
        t.t += 3.0
        assert await _taken(limiter, limits) == 10 and not limiter.degraded  # Redis decides alone again
    finally:
        await client.aclose()
