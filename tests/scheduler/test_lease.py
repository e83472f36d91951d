"""The Redis leader lease: SET NX PX, renewal by the holder only, a new token for each tenure."""

from __future__ import annotations

import uuid
from datetime import timedelta

from scheduler.lease import (
    DB_TTL,
    HEARTBEAT,
    REDIS_TTL,
    DbLease,
    RedisLease,
    build_lease,
)
from storage.scheduling.leases import lease_state


def test_a_dead_leader_is_replaced_within_a_minute() -> None:
    # Worst case: the key outlives its holder by the TTL, and a standby notices at its next heartbeat.
    assert REDIS_TTL + HEARTBEAT <= timedelta(minutes=1)
    assert DB_TTL + HEARTBEAT <= timedelta(minutes=1)


async def test_redis_lease_acquire_renew_release(redis_client, sessions, clock) -> None:
    prefix = f"xinfeng-test:{uuid.uuid4().hex[:10]}:"
    a = RedisLease(redis_client, sessions, holder="A", prefix=prefix)
    b = RedisLease(redis_client, sessions, holder="B", prefix=prefix)
    try:
        fa = await a.hold(clock.now())
        assert fa is not None and fa.holder == "A"
        assert await redis_client.get(a.key) == b"A"
        ttl = await redis_client.pttl(a.key)
        assert 0 < ttl <= REDIS_TTL.total_seconds() * 1000  # SET … PX: it expires by itself
        assert await b.hold(clock.now()) is None  # NX: taken
        await redis_client.pexpire(a.key, 1000)
        assert await a.hold(clock.now()) == fa  # renewal keeps the tenure and restores the TTL
        assert await redis_client.pttl(a.key) > 1000
        await b.release()  # not B's key: nothing happens
        assert await redis_client.get(a.key) == b"A"
        await a.release()
        assert await redis_client.get(a.key) is None
        fb = await b.hold(clock.now())
        assert fb is not None and fb.token == fa.token + 1
        async with sessions() as s:
            row = await lease_state(s, "scheduler")
            assert (row.holder, row.token) == ("B", fb.token)
        # A comes back with its old idea of leading: renewal fails, it stands by.
        assert await a.hold(clock.now()) is None
    finally:
        keys = await redis_client.keys(prefix + "*")
        if keys:
            await redis_client.delete(*keys)


async def test_without_redis_the_lease_is_a_database_row(sessions) -> None:
    assert isinstance(build_lease(sessions), DbLease)


async def test_with_redis_the_lease_is_a_redis_key(sessions, redis_client) -> None:
    assert isinstance(build_lease(sessions, redis_client), RedisLease)
