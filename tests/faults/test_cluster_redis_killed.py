"""Redis killed for 15 s under two `xinfeng run` workers while updates flow, then started again.

Redis only shares the rate limits and the scheduler's lease: while it is away each worker keeps
to its share of Telegram's budget (no 429), the scheduler stands by, and every message is
handled and answered as usual — at most a little slower. Once it is back (empty: no
persistence), everything goes on. 0 lost, 0 doubled, 0 × 429, everyone answered within 30 s.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.cluster import outage_while_flowing, running_cluster

pytestmark = pytest.mark.xdist_group("cluster")  # see test_cluster_worker_killed.py

OUTAGE = 15.0


async def test_redis_killed_for_15_s(tmp_path) -> None:
    async def scenario() -> None:
        async with running_cluster(tmp_path, people=150) as cluster:
            redis = cluster.redis
            outcome = await outage_while_flowing(cluster, break_=redis.kill, heal=redis.start, outage=OUTAGE)
            print(outcome.line("redis killed", cluster))
            await cluster.check_outcomes(outcome.items)
            await cluster.check_database()
            assert all(w.alive for w in cluster.workers)

    await asyncio.wait_for(scenario(), 150)
