"""Benchmark: reply latency of two `xinfeng run` workers under 20 updates a second (issue 15: p95 < 2 s).

Run by hand, from the repository root, with PostgreSQL and redis-server on the machine:

    .venv/bin/python bench/cluster_latency.py                       # 20/s for 30 s
    .venv/bin/python bench/cluster_latency.py --rate 30 --seconds 60

It starts the fault suite's cluster (`tests/faults/cluster.py`: a database of its own, a private
Redis, the fake Telegram Bot API with Telegram's limits, two workers behind a round-robin
webhook), lets each worker answer a few messages first (the first message a process handles
loads the request parser), then has a different person write every 1/rate seconds — 「我的」,
「帮助」, a sign-up, a free-text request, in turn — and prints the latency from the fake pushing
an update to the fake receiving its reply: p50/p95/p99 overall and per kind of message, the
429s the fake answered, and what the database holds at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REDIS_DEFAULT = "redis://127.0.0.1:6379/15"
WARM = 8  # people who write before the measurement, to warm both workers up


async def run(args: argparse.Namespace) -> None:
    from tests.faults.cluster import percentile, running_cluster, summary

    total = int(args.rate * args.seconds)
    with tempfile.TemporaryDirectory(prefix="cluster-bench-") as workdir:
        began = time.monotonic()
        async with running_cluster(Path(workdir), people=WARM + total, warm=False) as cluster:
            print(f"cluster up in {time.monotonic() - began:.1f} s: 2 workers, {WARM + total} people", flush=True)
            warm = await cluster.stream(cluster.users[:WARM], 4.0)
            await cluster.until_answered(warm, timeout=60)
            await cluster.settled(timeout=30)
            sent_before = cluster.fake.sent_count
            print(f"warmed up ({WARM} messages); sending {total} updates at {args.rate}/s …", flush=True)
            started = time.monotonic()
            items = await cluster.stream(cluster.users[WARM:], args.rate)
            pushed = time.monotonic() - started
            await cluster.until_answered(items, timeout=120)
            await cluster.settled(timeout=60)
            lat = cluster.latencies(items)
            by_kind: dict[str, list[float]] = defaultdict(list)
            for item in items:
                by_kind[item.text.split()[0][:6]].extend(cluster.latencies([item]))
            print(f"\n{len(items)} updates pushed in {pushed:.1f} s ({len(items) / pushed:.1f}/s); "
                  f"{cluster.fake.sent_count - sent_before} messages sent")
            print(f"reply latency: {summary(lat)}")
            for kind, values in by_kind.items():
                print(f"  {kind:8s} {summary(values)}")
            print(f"429 answers at the fake: {cluster.too_many_requests()}  (stats {dict(cluster.fake.stats)})")
            print(f"database: {await cluster.database_report()}")
            print(f"duplicated replies: {len(cluster.duplicated_replies())}")
            verdict = "OK" if percentile(lat, 95) < 2.0 else "OVER TARGET"
            print(f"target p95 < 2 s: {verdict}")
            if args.logs:
                print(cluster.logs())


def main() -> None:
    """Parse arguments and run."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=20.0, help="updates a second")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--logs", action="store_true", help="print the workers' logs at the end")
    args = p.parse_args()
    os.environ.setdefault("XINFENG_TEST_DATABASE_URL", os.environ.get("XINFENG_BENCH_DATABASE_URL") or PG_DEFAULT)
    os.environ.setdefault("XINFENG_TEST_REDIS_URL", REDIS_DEFAULT)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
