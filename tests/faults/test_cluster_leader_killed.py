"""The scheduler's leader killed (kill -9) mid fan-out: the standby takes over, everyone gets exactly one message.

The moral activity day of the cluster's village (北山村) falls due a minute before the workers
start (its rule and the installation's first run recorded before that, by data), so the worker
that wins the scheduler's lease owes it at its first tick: one transaction opens the firing and
writes a message per volunteer (the sent-log's keys make a second one impossible), and the
relays send them under Telegram's 30/s. Once some but not all have reached Telegram, the leader
is killed with SIGKILL. Then:

- the rows it had claimed are taken over by the other worker once its heartbeat is older than
  the delivery lease (5 s), its journal saying which had already been handed to Telegram;
- every volunteer has a moral-day message, none lost, no 429; a second copy only of what the dead
  worker had handed to Telegram but not yet noted in its journal (the Bot API has no idempotency
  key: such duplicates are bounded by what was in flight, and counted in the survivor's log);
- the standby takes the scheduler's Redis lease once the dead leader's key expires (its TTL, 30 s,
  plus at most one 10 s heartbeat): bounded here at 45 s after the kill;
- everything is delivered within 30 s of the kill: the rate-limit slots the dead worker held are
  ended when its rows are taken over, so a row sent again does not wait out their 45 s hold.

The real clock is used: no wait for a wall-clock time is needed, because "due" is arranged by data.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from sqlalchemy import func, select

from tests.faults.cluster import running_cluster

pytestmark = pytest.mark.xdist_group("cluster")  # see test_cluster_worker_killed.py

PEOPLE = 300  # at 25/s the fan-out takes ~12 s: room to kill the leader mid-way
KILL_AFTER = 30  # moral-day messages at Telegram before the kill
MARK = "【道德活动日】"


async def test_leader_killed_mid_fan_out(tmp_path) -> None:
    from storage.models import ScheduleFiring, ScheduleSend

    async def scenario() -> None:
        async with running_cluster(tmp_path, people=PEOPLE, moral_day_now=True, warm=False) as cluster:
            def reached() -> int:  # people, not messages: a second copy to one is no message to another
                return sum(1 for u in cluster.users if any(MARK in m.text for m in cluster.replies(u)))

            await cluster.fake.until(lambda: reached() >= KILL_AFTER, 30)
            leader = await cluster.leader()
            assert leader is not None, cluster.logs()
            before = reached()
            leader.kill()
            killed_at = time.monotonic()
            assert KILL_AFTER <= before < PEOPLE, f"not mid fan-out: {before} of {PEOPLE} had been sent"
            standby = next(w for w in cluster.workers if w is not leader)

            with contextlib.suppress(AssertionError):  # who was not reached is reported below
                await cluster.fake.until(lambda: reached() >= PEOPLE, max(0.0, killed_at + 30 - time.monotonic()))
            everyone_at = time.monotonic()
            lost = [u for u in cluster.users if not any(MARK in m.text for m in cluster.replies(u))]
            try:  # the promise: everything delivered within 30 s of the kill
                await cluster.settled(timeout=max(5.0, killed_at + 30 - time.monotonic()))
                unsettled = None
            except AssertionError as exc:
                unsettled = str(exc)

            while time.monotonic() < killed_at + 45 and await cluster.leader() is not standby:
                await asyncio.sleep(0.5)
            took_lease = time.monotonic() - killed_at
            # Settled: every row is sent, so any second copy has been sent too.
            per_user = {u: sum(1 for m in cluster.replies(u) if MARK in m.text) for u in cluster.users}
            twice = [u for u, n in per_user.items() if n > 1]
            in_flight = cluster.counted_in_flight()
            print(f"[leader killed] killed after {before}/{PEOPLE}; everyone reached "
                  f"{everyone_at - killed_at:.1f} s after the kill; standby leading {took_lease:.1f} s after; "
                  f"fake {dict(cluster.fake.stats)}")
            print("\n".join(cluster.log_lines("lease", "is dead", "taken for dead")))
            assert lost == [] and len(twice) <= in_flight, (
                f"{len(lost)} lost, {len(twice)} got it twice, {in_flight} counted in flight", lost[:10], twice[:10],
                cluster.log_lines("is dead", "ERROR"))
            assert unsettled is None, unsettled
            await cluster.check_database()
            assert await cluster.leader() is standby, cluster.log_lines("lease")
            assert cluster.too_many_requests() == 0, dict(cluster.fake.stats)
            # One moral-day firing (other jobs due at start, such as the nightly retraining, fire too).
            firings = await cluster.rows(select(ScheduleFiring.__table__).where(ScheduleFiring.job == "moral_day"))
            assert len(firings) == 1, [(f.job, f.period, f.scope, str(f.due_at), str(f.fired_at)) for f in firings]
            assert await cluster.scalar(select(func.count()).select_from(ScheduleSend)) == PEOPLE

    await asyncio.wait_for(scenario(), 170)
