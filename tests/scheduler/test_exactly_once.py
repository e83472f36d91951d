"""Two schedulers on one database (and one Redis): one leads, a deposed one cannot write, nothing twice.

Runs with the database-row lease always, and with the Redis lease when XINFENG_TEST_REDIS_URL is
set; on PostgreSQL (XINFENG_TEST_DATABASE_URL) the two really race for rows and row locks.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from datetime import timedelta

import pytest

from scheduler.lease import DbLease, RedisLease
from scheduler.runner import run_due
from scheduler.ticker import Scheduler
from storage.scheduling.leases import FencedOut

REDIS_URL = os.environ.get("XINFENG_TEST_REDIS_URL")


class Leases:
    """Makes leases of one kind for named holders, all competing for the same lease."""

    def __init__(self, kind: str, sessions, redis=None, prefix: str = "") -> None:
        self.kind, self.sessions, self.redis, self.prefix = kind, sessions, redis, prefix

    def __call__(self, holder: str):
        if self.kind == "redis":
            return RedisLease(self.redis, self.sessions, holder=holder, prefix=self.prefix)
        return DbLease(self.sessions, holder=holder)

    async def lose(self, lease) -> None:
        """The holder is gone and its lease has run out (Redis: the key expired)."""
        if self.kind == "redis":
            await self.redis.delete(lease.key)


@pytest.fixture(params=["db", "redis"])
async def leases(request, world):
    if request.param == "db":
        yield Leases("db", world.sessions)
        return
    if not REDIS_URL:
        pytest.skip("XINFENG_TEST_REDIS_URL not set")
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    prefix = f"xinfeng-test:{uuid.uuid4().hex[:10]}:"
    yield Leases("redis", world.sessions, client, prefix)
    keys = await client.keys(prefix + "*")
    if keys:
        await client.delete(*keys)
    await client.aclose()


# 28 November to 12 December: the moral day, two Monday digests, one monthly report, and the
# 24 h and 1 h reminders of two activities.
EXPECTED = {"moral_day": 5, "captain_digest": 2, "admin_report": 4, "activity_reminder": 10}


async def _setup_activities(w) -> None:
    await w.add_activity("PLD", "包饺子送老人", w.at(12, 5, 9), ["赵志愿", "钱志愿"])
    await w.add_activity("KJ", "大棚技术讲座", w.at(12, 12, 14), ["姜兆彤", "刘农技", "孙科技"])


async def test_two_schedulers_through_two_weeks_send_everything_once(world, leases) -> None:
    w = world
    await _setup_activities(w)
    a = Scheduler(w.sessions, w.clock, tz=w.tz, lease=leases("A"))
    b = Scheduler(w.sessions, w.clock, tz=w.tz, lease=leases("B"))
    now, alive = w.at(11, 28, 9), [a, b]
    led = Counter()
    while now <= w.at(12, 12, 23):
        w.clock.set(now)
        results = await asyncio.gather(*(s.tick() for s in alive))
        assert sum(r is not None for r in results) <= 1 or leases.kind == "db"
        for s, r in zip(alive, results):
            if r is not None:
                led[s.lease.holder] += 1
        if now == w.at(12, 6, 12) and a in alive:  # the leader (A) dies half-way
            alive = [b]
            await leases.lose(a.lease)
        now += timedelta(hours=1)
    assert led["B"] > 0  # the standby took over
    assert await w.duplicates() == []
    sent = Counter(r.kind for r in await w.scheduled())
    assert dict(sent) == EXPECTED


async def test_a_deposed_leader_cannot_write_what_the_new_one_sends(world, leases) -> None:
    w = world
    a = Scheduler(w.sessions, w.clock, tz=w.tz, lease=leases("A"))
    b = Scheduler(w.sessions, w.clock, tz=w.tz, lease=leases("B"))
    w.clock.set(w.at(12, 5, 7))
    assert await a.tick() is not None and await b.tick() is None
    stale = a.fence
    # A stalls (a long GC pause, a network partition) past its lease; B takes over.
    w.clock.set(w.at(12, 5, 8))
    await leases.lose(a.lease)
    assert await b.heartbeat() and b.fence.token > stale.token
    # A wakes up believing it still leads: its late write fails as a whole.
    with pytest.raises(FencedOut):
        await run_due(w.sessions, w.clock.now(), tz=w.tz, fence=stale)
    assert await w.scheduled("moral_day") == []
    assert (await b.tick())["moral_day"] == 5
    assert await a.tick() is None  # A finds out and stands by
    assert await w.duplicates() == []


async def test_even_without_a_lease_two_racing_runs_send_once(world) -> None:
    w = world
    await w.add_activity("PLD", "包饺子送老人", w.at(12, 5, 9), ["赵志愿", "钱志愿"])
    w.clock.set(w.at(12, 5, 8))
    results = await asyncio.gather(*(run_due(w.sessions, w.clock.now(), tz=w.tz) for _ in range(4)))
    assert sum(r["moral_day"] for r in results) == 5
    assert sum(r["activity_reminder"] for r in results) == 2
    assert all(-1 not in r.values() for r in results)
    assert await w.duplicates() == []


async def test_a_standby_takes_over_within_a_minute_of_the_leader_dying(world) -> None:
    w = world
    a = Scheduler(w.sessions, w.clock, tz=w.tz, lease=DbLease(w.sessions, holder="A"))
    b = Scheduler(w.sessions, w.clock, tz=w.tz, lease=DbLease(w.sessions, holder="B"))
    died = w.at(12, 1, 10)
    w.clock.set(died)
    assert await a.heartbeat() and not await b.heartbeat()
    took_over = None
    for seconds in range(10, 121, 10):  # B's heartbeat every 10 s; A is silent from now on
        w.clock.set(died + timedelta(seconds=seconds))
        if await b.heartbeat():
            took_over = seconds
            break
    assert took_over is not None and took_over <= 60
