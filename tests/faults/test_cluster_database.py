"""PostgreSQL away for 20 s under two `xinfeng run` workers while updates flow: 0 lost, 0 doubled, 0 × 429.

Both workers reach the database through a TCP proxy. Two ways for it to go away:

- cut: every connection reset, new ones refused (a restarting server, a network that says so);
  a worker answers 503 for what it could not record, and Telegram delivers it again;
- frozen: bytes stop flowing both ways and every connection stays open (a stalled network, a
  paused VM) — nothing fails, everything waits; Telegram's webhook call times out and is retried.

Either way, after 20 s the database is back, and everyone who wrote must have exactly one
answer within 30 s, every inbox row handled, no outbox row stuck or given up on.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.cluster import outage_while_flowing, running_cluster

pytestmark = pytest.mark.xdist_group("cluster")  # see test_cluster_worker_killed.py

OUTAGE = 20.0


async def test_database_connections_reset_for_20_s(tmp_path) -> None:
    async def scenario() -> None:
        async with running_cluster(tmp_path, people=150) as cluster:
            proxy = cluster.pg_proxy
            outcome = await outage_while_flowing(cluster, break_=proxy.cut, heal=proxy.restore, outage=OUTAGE)
            print(outcome.line("database cut", cluster))
            await cluster.check_outcomes(outcome.items)
            await cluster.check_database()
            assert cluster.fake.stats["webhook_redelivery"] > 0  # the outage was felt
            assert all(w.alive for w in cluster.workers)

    await asyncio.wait_for(scenario(), 150)


async def test_database_frozen_for_20_s(tmp_path) -> None:
    async def scenario() -> None:
        async with running_cluster(tmp_path, people=150) as cluster:
            proxy = cluster.pg_proxy
            outcome = await outage_while_flowing(cluster, break_=proxy.freeze, heal=proxy.unfreeze, outage=OUTAGE)
            print(outcome.line("database frozen", cluster))
            await cluster.check_outcomes(outcome.items)
            await cluster.check_database()
            assert all(w.alive for w in cluster.workers)

    await asyncio.wait_for(scenario(), 150)
