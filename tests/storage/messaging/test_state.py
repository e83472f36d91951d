"""Conversation state in the database (SQLite, PostgreSQL): per chat and user, expiring by the clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.messaging.state import SqlStateStore, state_key


@pytest.fixture
async def store(session, clock):
    return SqlStateStore(session, clock)


async def test_set_get_clear(store: SqlStateStore) -> None:
    key = state_key("telegram", "100", "7")
    assert await store.get(key) is None
    await store.set(key, {"awaiting": "order_confirm", "draft": {"category": "农业技术"}}, timedelta(hours=1))
    assert await store.get(key) == {"awaiting": "order_confirm", "draft": {"category": "农业技术"}}
    await store.set(key, {"awaiting": "x"}, timedelta(hours=1))
    assert await store.get(key) == {"awaiting": "x"}
    await store.clear(key)
    assert await store.get(key) is None


async def test_keys_are_per_chat_and_user(store: SqlStateStore) -> None:
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

