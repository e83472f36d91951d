"""One contract for conversation state, on the database (SQLite, PostgreSQL) and on Redis."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest

from storage.messaging.state import RedisStateStore, SqlStateStore, StateStore, state_key


@pytest.fixture(params=["sql", "redis"])
async def store(request, session, clock):
    """Each backend behind the same contract (Redis only when a test server is configured)."""
    if request.param == "sql":
        yield SqlStateStore(session, clock)
        return
    url = os.environ.get("XINFENG_TEST_REDIS_URL")
    if not url:
        pytest.skip("XINFENG_TEST_REDIS_URL not set")
    import redis.asyncio as redis

    client = redis.from_url(url)
    prefix = f"xinfeng-test:{uuid.uuid4().hex[:10]}:"
    yield RedisStateStore(client, prefix=prefix)
    keys = await client.keys(prefix + "*")
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_set_get_clear(store: StateStore) -> None:
    key = state_key("telegram", "100", "7")
    assert await store.get(key) is None
    await store.set(key, {"awaiting": "order_confirm", "draft": {"category": "农业技术"}}, timedelta(hours=1))
    assert await store.get(key) == {"awaiting": "order_confirm", "draft": {"category": "农业技术"}}
    await store.set(key, {"awaiting": "x"}, timedelta(hours=1))
    assert await store.get(key) == {"awaiting": "x"}
    await store.clear(key)
    assert await store.get(key) is None


async def test_keys_are_per_chat_and_user(store: StateStore) -> None:
    await store.set(state_key("telegram", "group-1", "7"), {"n": 1}, timedelta(hours=1))
    assert await store.get(state_key("telegram", "7", "7")) is None
    assert await store.get(state_key("wechat", "group-1", "7")) is None


async def test_sql_state_expires_by_the_clock(session, clock) -> None:
    store = SqlStateStore(session, clock)
    await store.set("k", {"a": 1}, timedelta(minutes=30))
    clock.advance(minutes=29)
    assert await store.get("k") == {"a": 1}
    clock.advance(minutes=2)
    assert await store.get("k") is None
    assert await store.purge_expired(clock.now()) == 1


async def test_redis_state_carries_its_ttl(redis_client) -> None:
    prefix = f"xinfeng-test:{uuid.uuid4().hex[:10]}:"
    store = RedisStateStore(redis_client, prefix=prefix)
    await store.set("k", {"a": 1}, timedelta(minutes=30))
    ttl = await redis_client.pttl(prefix + "k")
    assert 29 * 60_000 < ttl <= 30 * 60_000
    await redis_client.delete(prefix + "k")
