"""kill -9 of one of two `xinfeng run` workers while updates flow: 0 lost, 0 doubled, 0 × 429.

150 people each write one message, 20 a second, through the round-robin webhook; two seconds
in, one worker is killed with SIGKILL. What it held — updates it was handling (their webhook
POSTs die with it and the platform redelivers them to the survivor), replies it had claimed
but not sent or not recorded (the survivor takes them over once its heartbeat is older than
the lease, reading its journal so that what was handed to Telegram is not sent again) — must
reach everyone, within 30 s of the kill, and once: a second copy only of a send Telegram took in
the instant before the kill, before the journal noted it (the Bot API has no idempotency key),
never more such copies than the survivor counts in its log.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.cluster import outage_while_flowing, running_cluster

# Isolated (spare ports, a database of its own): safe beside other tests under xdist. With
# `--dist loadgroup` the cluster scenarios share one xdist worker, so that two clusters (four bot
# processes) do not fight over a small machine's cores and make each other's deadlines.
pytestmark = pytest.mark.xdist_group("cluster")


async def test_a_worker_killed_mid_flow_loses_and_doubles_nothing(tmp_path) -> None:
    async def scenario() -> None:
        async with running_cluster(tmp_path, people=150) as cluster:
            victim, survivor = cluster.workers
            outcome = await outage_while_flowing(cluster, break_=victim.kill, heal=lambda: None, outage=0.0)
            print(outcome.line("worker killed", cluster))
            assert victim.proc is not None and victim.proc.returncode == -9
            await cluster.check_outcomes(outcome.items)
            await cluster.check_database()
            assert outcome.answered_after_healing <= 30

    await asyncio.wait_for(scenario(), 150)
