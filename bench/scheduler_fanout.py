"""Benchmark: enqueue the province-wide moral-day reminder (1.2 M volunteers, 20,000 teams).

Run by hand, from the repository root:

    .venv/bin/python bench/scheduler_fanout.py                      # SQLite and PostgreSQL
    .venv/bin/python bench/scheduler_fanout.py --backend sqlite --volunteers 200000

For each backend it generates the province (`bench/province.py`, set-based SQL) into a fresh
database (SQLite file / PostgreSQL schema), sets the moral day at the province, and then, in a
fresh child process so that its peak RSS is the fan-out's own, runs the real `moral_day` job
as of 2026-12-05 08:00 — timing it, measuring peak memory, and running it a second time
(which must enqueue nothing). The baseline, measured in the same run, is the per-person path
every handler uses (`Notifier.person`: preferred account looked up, one ORM row each) on a
sample, extrapolated to the same number of direct messages. Aim: < 60 s, < 300 MB.

The bench schema is created table by table, without the data-map triggers (`storage.stats_*`):
none of them is on a table the fan-out writes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import func, select, text  # noqa: E402

from scratch_db import create_scratch, drop  # noqa: E402
from storage.db import create_engine, session_factory  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
DUE = datetime(2026, 12, 5, 8, 0, tzinfo=TZ)
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SAMPLE = 2_000


def _engine(url: str, schema: str | None):
    if schema:
        return create_engine(url, connect_args={"server_settings": {"search_path": schema}})
    return create_engine(url)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def prepare(url: str, schema: str | None, volunteers: int, teams: int, groups: float) -> dict[str, object]:
    """Create the schema, generate the province, set the rule; returns generation figures."""
    from province import Shape, generate

    from storage.scheduling.recurrence import Recurrence
    from storage.scheduling.rules import MORAL_DAY, set_rule
    from storage.models import metadata

    engine = _engine(url, schema)
    async with engine.begin() as conn:
        for table in metadata.sorted_tables:
            await conn.run_sync(lambda c, t=table: t.create(c, checkfirst=True))
    started = time.perf_counter()
    counts = await generate(engine, Shape(volunteers=volunteers, teams=teams, group_share=groups), DUE,
                            DUE - timedelta(days=10))
    took = time.perf_counter() - started
    async with session_factory(engine)() as session:
        await set_rule(session=session, unit_id=1, job=MORAL_DAY, recurrence=Recurrence(hour=8, day_of_month=5),
                       now=DUE - timedelta(days=10))
        await session.commit()
    await engine.dispose()
    return {"generate_s": round(took, 1), **counts}


async def baseline(url: str, schema: str | None) -> dict[str, float]:
    """The per-person path (Notifier.person) on a sample of opted-in volunteers, rolled back."""
    from handlers.core.notify import Notifier
    from storage.models import Person

    engine = _engine(url, schema)
    async with session_factory(engine)() as session:
        people = (await session.execute(
            select(Person).where(Person.dm_opt_in.is_(True)).order_by(Person.id).limit(SAMPLE))).scalars().all()
        notifier = Notifier(session, DUE)
        started = time.perf_counter()
        for person in people:
            await notifier.person(person, "道德活动日")
        await session.flush()
        took = time.perf_counter() - started
        await session.rollback()
    await engine.dispose()
    return {"per_message_ms": took / len(people) * 1000}


async def fan_out(url: str, schema: str | None) -> dict[str, object]:
    """Run the moral-day job as of the due instant, twice (child process)."""
    from scheduler.runner import run_jobs
    from scheduler.job import JobRun

    engine = _engine(url, schema)
    sessions = session_factory(engine)
    rss_before = _rss_mb()
    tracemalloc.start()
    started = time.perf_counter()
    first = await run_jobs(sessions, JobRun(now=DUE, tz=TZ), ["moral_day"])
    took = time.perf_counter() - started
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started = time.perf_counter()
    second = await run_jobs(sessions, JobRun(now=DUE + timedelta(minutes=1), tz=TZ), ["moral_day"])
    again = time.perf_counter() - started
    result = {"enqueued": first["moral_day"], "seconds": round(took, 2), "again_enqueued": second["moral_day"],
              "again_seconds": round(again, 2), "rss_before_mb": round(rss_before, 1),
              "peak_rss_mb": round(_rss_mb(), 1), "python_peak_mb": round(py_peak / 2**20, 1)}
    result.update(await _check(sessions))
    await engine.dispose()
    return result


async def _check(sessions) -> dict[str, object]:
    """Groups vs direct messages, no duplicates, and the preferred account on a sample."""
    from storage.models import OutboxMessage
    from storage.messaging.outbox import preferred_identity

    async with sessions() as s:
        groups = (await s.execute(select(func.count()).where(OutboxMessage.person_id.is_(None)))).scalar_one()
        people = (await s.execute(select(func.count()).where(OutboxMessage.person_id.is_not(None)))).scalar_one()
        distinct = (await s.execute(select(func.count(func.distinct(OutboxMessage.person_id))))).scalar_one()
        sample = (await s.execute(
            select(OutboxMessage.person_id, OutboxMessage.platform, OutboxMessage.address)
            .where(OutboxMessage.person_id.is_not(None)).order_by(OutboxMessage.person_id).limit(500))).all()
        wrong = 0
        for pid, platform, address in sample:
            ident = await preferred_identity(s, pid)
            if (platform, address) != ((ident.platform, ident.external_id) if ident else (None, None)):
                wrong += 1
    return {"group_messages": groups, "direct_messages": people, "duplicate_dms": people - distinct,
            "preferred_account_mismatches_in_500": wrong}


async def one_backend(backend: str, args: argparse.Namespace) -> None:
    """Prepare, measure the baseline, fan out in a child process, report, clean up."""
    url, schema, path = await create_scratch(backend, workdir=args.workdir, pg_url=args.pg_url, stem="province")
    try:
        print(f"\n== {backend}: {args.volunteers:,} volunteers, {args.teams:,} teams, "
              f"{args.groups:.0%} of teams with a bound group ==", flush=True)
        made = await prepare(url, schema, args.volunteers, args.teams, args.groups)
        print("generated:", json.dumps(made, ensure_ascii=False), flush=True)
        base = await baseline(url, schema)
        child = subprocess.run(
            [sys.executable, __file__, "--fanout-only", "--url", url] + (["--schema", schema] if schema else []),
            capture_output=True, text=True, check=True)
        result = json.loads(child.stdout.strip().splitlines()[-1])
        print("fan-out:", json.dumps(result, ensure_ascii=False))
        dms = int(result["direct_messages"])
        total = int(result["enqueued"])
        loop_s = (base["per_message_ms"] / 1000) * total
        print(f"  {total:,} messages ({result['group_messages']:,} groups + {dms:,} direct) in {result['seconds']} s "
              f"= {total / max(result['seconds'], 1e-9):,.0f} msg/s; peak RSS {result['peak_rss_mb']} MB "
              f"(Python heap peak {result['python_peak_mb']} MB); second run: {result['again_enqueued']} in "
              f"{result['again_seconds']} s")
        print(f"  baseline (Notifier.person, {SAMPLE:,}-message sample): {base['per_message_ms']:.3f} ms/message "
              f"→ ≈ {loop_s:,.0f} s for {total:,} messages; set-based is {loop_s / max(result['seconds'], 1e-9):,.1f}× "
              f"faster")
        verdict = "OK" if result["seconds"] < 60 and result["peak_rss_mb"] < 300 else "OVER TARGET"
        print(f"  target < 60 s and < 300 MB: {verdict}", flush=True)
    finally:
        if not args.keep:
            await drop(url, schema, path)


def main() -> None:
    """Parse arguments and run."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--volunteers", type=int, default=1_200_000)
    p.add_argument("--teams", type=int, default=20_000)
    p.add_argument("--groups", type=float, default=0.6, help="share of teams with a bound group (0 = worst case)")
    p.add_argument("--pg-url", default=os.environ.get("XINFENG_BENCH_DATABASE_URL")
                   or os.environ.get("XINFENG_TEST_DATABASE_URL") or PG_DEFAULT)
    p.add_argument("--workdir", default="/tmp/xinfeng-bench")
    p.add_argument("--keep", action="store_true", help="keep the generated database")
    p.add_argument("--fanout-only", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--schema", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.fanout_only:
        print(json.dumps(asyncio.run(fan_out(args.url, args.schema))))
        return
    for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
        asyncio.run(one_backend(backend, args))


if __name__ == "__main__":
    main()
