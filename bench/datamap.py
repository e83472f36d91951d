"""Benchmark: the data map's figures at province scale, from the maintained aggregates and by a naive recount.

Run by hand, from the repository root (a few minutes; the SQLite file is ~1 GB, removed after):

    .venv/bin/python bench/datamap.py                         # SQLite, the full province
    .venv/bin/python bench/datamap.py --volunteers 200000     # a smaller one
    .venv/bin/python bench/datamap.py --backend postgresql

It generates the province (`bench/province.py` for the network and 1.2 M volunteers, at the
data map's shape; `bench/datamap_data.py` for a year of tasks, hours, activities, wishes and
pairing visits) with the triggers off, then installs them (a full recount), and then, in a
fresh child process so that its peak memory is the figures' own, times in the same run:

- province and county figures (the unit's own + its children's, as `统计` and the dashboard
  read them) from the aggregates: p50/p99 over many runs;
- the same figures by the naive recount (`figures_naive`, joins over the source tables);
- the extra cost of the triggers on writes (a task's whole lifecycle, with and without them).

- the map (`storage.datamap.choropleth.unit_map`, what `/api/units/{code}/map` serves): the
  province's cities and a city's counties on their boundaries with every figure, p50/p99 — the
  synthetic cities and counties are given the real names and division codes of Liaoning's 14
  cities and 100 counties first (`name_for_map`), so each one has a boundary;
- the dashboard page's total transferred size with the map: HTML, style, script, ECharts and the
  API answers of a province admin's first screen, as the server sends them (gzip).

Aim: province figures p99 < 200 ms on SQLite, peak memory < 300 MB; the map p99 < 200 ms; the
page under 2 MB. The map needs the npm packages `make` installs (`node_modules/`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import select, text  # noqa: E402

from storage.db import create_engine, session_factory  # noqa: E402

NOW = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _engine(url: str, schema: str | None):
    if schema:
        return create_engine(url, connect_args={"server_settings": {"search_path": schema}})
    return create_engine(url)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pcts(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 1), "p99_ms": round(p99 * 1000, 1)}


async def prepare(url: str, schema: str | None, volunteers: int) -> dict[str, object]:
    """Schema, province, a year of activity, then the aggregates; returns timings and counts."""
    from datamap_data import Activity, generate_year
    from province import Shape, generate

    from storage.datamap.recount import drop_triggers_sync, install_aggregates_sync
    from storage.models import metadata

    engine = _engine(url, schema)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.run_sync(drop_triggers_sync)  # a bulk load: counted once, afterwards
    started = time.perf_counter()
    counts = await generate(engine, Shape(volunteers=volunteers), NOW + timedelta(days=7), NOW)
    counts.update(await generate_year(engine, volunteers, Activity(), NOW))
    generated = time.perf_counter() - started
    started = time.perf_counter()
    async with engine.begin() as conn:
        await conn.run_sync(install_aggregates_sync)
    rebuilt = time.perf_counter() - started
    async with engine.connect() as conn:
        counts["stat_counters"] = (await conn.execute(text("SELECT COUNT(*) FROM stat_counters"))).scalar_one()
        if engine.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE"))
    await engine.dispose()
    return {"generate_s": round(generated, 1), "install_and_recount_s": round(rebuilt, 1), **counts}


async def name_for_map(url: str, schema: str | None) -> dict[str, int]:
    """Give the synthetic cities and counties Liaoning's real names and division codes (for their boundaries)."""
    from storage.datamap.divisions import load_divisions, package_root

    divisions = load_divisions(package_root())
    if divisions is None:
        return {"named": 0}
    cities = divisions.below("210000", "city")
    engine = _engine(url, schema)
    named = 0
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE org_units SET division_code = '210000' WHERE code = 'LN'"))
        for i, city in enumerate(cities, start=1):
            await conn.execute(text("UPDATE org_units SET name = :n, division_code = :d WHERE code = :c"),
                               {"n": city.name, "d": city.code, "c": f"C{i}"})
            # Center n belongs to city 1 + (n - 1) % 14 (bench/province.py): its k-th center is its k-th county.
            for k, county in enumerate(divisions.below(city.code, "county")):
                n = 1 + (i - 1) + k * len(cities)
                await conn.execute(text("UPDATE org_units SET name = :n, division_code = :d WHERE code = :c"),
                                   {"n": f"{county.name}新时代文明实践中心", "d": county.code, "c": f"X{n}"})
                named += 1
    await engine.dispose()
    return {"named_counties": named}


async def page_size(url: str, schema: str | None) -> dict[str, object]:
    """Bytes a province admin's browser receives for the dashboard's first screen, with the map (gzip as sent)."""
    import httpx

    from bot.dashboard import dashboard_routes
    from bot.web import build_app
    from storage.clock import FixedClock
    from storage.datamap.dashboard_links import create_link
    from storage.models import OrgUnit, Person, RoleGrant

    engine = _engine(url, schema)
    sessions = session_factory(engine)
    async with sessions() as s:
        province = (await s.execute(select(OrgUnit).where(OrgUnit.code == "LN"))).scalar_one()
        admin = Person(name="省管理员", phone="13000000000", org_unit_id=province.id, created_at=NOW)
        s.add(admin)
        await s.flush()
        s.add(RoleGrant(person_id=admin.id, role="admin", org_unit_id=province.id))
        token = await create_link(session=s, person_id=admin.id, org_unit_id=province.id, now=NOW)
        await s.commit()
    app = build_app(dashboard_routes(sessions, FixedClock(NOW)))
    sizes: dict[str, int] = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                 headers={"Accept-Encoding": "gzip"}) as client:
        await client.get("/dashboard/login", params={"token": token})
        for path in ("/dashboard", "/dashboard/static/dashboard.css", "/dashboard/static/dashboard.js",
                     "/dashboard/static/echarts.min.js", "/api/me", "/api/units/LN", "/api/units/LN/map",
                     "/api/units/LN/latest"):
            async with client.stream("GET", path) as response:
                # What crossed the wire: the body as sent (compressed when it was) and the headers.
                body = b"".join([chunk async for chunk in response.aiter_raw()])
                assert response.status_code == 200, (path, response.status_code)
                sizes[path] = len(body) + sum(len(k) + len(v) + 4 for k, v in response.headers.items())
    await engine.dispose()
    total = sum(sizes.values())
    return {"bytes": sizes, "total_kb": round(total / 1024, 1)}


async def measure_map(url: str, schema: str | None, runs: int) -> dict[str, object]:
    """The map of the province (14 cities) and of random cities (their counties), as the API builds it."""
    from storage.datamap.choropleth import unit_map
    from storage.models import OrgUnit

    engine = _engine(url, schema)
    sessions = session_factory(engine)
    async with sessions() as s:
        province = (await s.execute(select(OrgUnit).where(OrgUnit.code == "LN"))).scalar_one()
        cities = list((await s.execute(select(OrgUnit).where(OrgUnit.level == "city"))).scalars())
        first = await unit_map(s, province, NOW)
        shape = {"areas": len(first.areas), "coloured": sum(1 for a in first.areas if a.unit),
                 "geojson_kb": round(len(json.dumps(first.to_json(), ensure_ascii=False).encode()) / 1024, 1)}
        s.expunge_all()
        await s.rollback()
    rng = random.Random(11)

    async def timed(unit: OrgUnit) -> float:
        async with sessions() as session:
            started = time.perf_counter()
            drawn = await unit_map(session, unit, NOW, unit_figures=False)  # as /api/units/{code}/map does
            json.dumps(drawn.to_json(), ensure_ascii=False)
            took = time.perf_counter() - started
            await session.rollback()
        return took

    for city in cities:
        await timed(city)  # the boundaries are read once per process, then kept
    out = {"province_map": {**shape, **_pcts([await timed(province) for _ in range(runs)])},
           "city_map": _pcts([await timed(rng.choice(cities)) for _ in range(runs)])}
    await engine.dispose()
    return out


async def measure(url: str, schema: str | None, runs: int, naive_runs: int) -> dict[str, object]:
    """Figures from the aggregates and by the naive recount, in this (fresh) process."""
    from storage.datamap.figures import children_figures, figures, figures_naive
    from storage.models import OrgUnit

    engine = _engine(url, schema)
    sessions = session_factory(engine)
    rng = random.Random(7)
    out: dict[str, object] = {}
    async with sessions() as s:
        province = (await s.execute(select(OrgUnit).where(OrgUnit.code == "LN"))).scalar_one()
        counties = list((await s.execute(select(OrgUnit).where(OrgUnit.level == "center"))).scalars())
        top = await figures(s, province, NOW)
        out["province_figures"] = {"volunteers": top.volunteers, "active_volunteers": top.active_volunteers,
                                   "teams": top.teams, "units": top.units, "tasks": top.tasks,
                                   "hours": float(top.hours), "activities": top.activities,
                                   "median_accept_minutes": top.median_accept_minutes,
                                   "beneficiaries": top.beneficiaries, "wishes": top.wishes,
                                   "pairing_visits": top.pairing_visits}
        s.expunge_all()  # plain objects from here on: a rollback must not expire them
        await s.rollback()  # and let go: on SQLite even a read holds the write lock (BEGIN IMMEDIATE)

    async def timed(unit: OrgUnit, naive: bool) -> float:
        async with sessions() as session:
            started = time.perf_counter()
            if naive:
                await figures_naive(session, unit, NOW)
            else:
                await figures(session, unit, NOW)
                await children_figures(session, unit, NOW)
            took = time.perf_counter() - started
            await session.rollback()
        return took

    for _ in range(3):
        await timed(province, False)  # warm the page cache
    out["aggregates_province"] = _pcts([await timed(province, False) for _ in range(runs)])
    out["aggregates_county"] = _pcts([await timed(rng.choice(counties), False) for _ in range(runs)])
    # Memory: the whole process's peak so far (the aggregates' path), and Python's own
    # allocations for one province read (tracemalloc slows Python down, so not while timing).
    out["peak_rss_mb"] = round(_rss_mb(), 1)
    tracemalloc.start()
    await timed(province, False)
    out["python_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    tracemalloc.stop()
    out["naive_province"] = _pcts([await timed(province, True) for _ in range(naive_runs)])
    out["naive_county"] = _pcts([await timed(rng.choice(counties), True) for _ in range(naive_runs * 3)])
    async with sessions() as session:
        same = (await figures(session, counties[0], NOW)).to_dict() == \
            (await figures_naive(session, counties[0], NOW)).to_dict()
    out["county_aggregates_equal_naive"] = same
    out["ratio_province_p50"] = round(out["naive_province"]["p50_ms"] / out["aggregates_province"]["p50_ms"], 1)
    out["ratio_county_p50"] = round(out["naive_county"]["p50_ms"] / out["aggregates_county"]["p50_ms"], 1)
    out["peak_rss_mb_with_naive"] = round(_rss_mb(), 1)
    await engine.dispose()
    return out


async def write_overhead(url: str, schema: str | None, n: int) -> dict[str, float]:
    """A task's lifecycle (order, offer, accept, complete, confirm + hours) with the triggers and without."""
    from storage.models import OrgUnit, Person, Team
    from storage.datamap.recount import drop_triggers_sync
    from storage.tasks.transitions import accept_task, close_task, complete_task, create_task, offer_task

    engine = _engine(url, schema)
    sessions = session_factory(engine)
    async with sessions() as s:
        station = (await s.execute(select(OrgUnit.id).where(OrgUnit.level == "station").limit(1))).scalar_one()
        team = (await s.execute(select(Team.id).limit(1))).scalar_one()
        people = list((await s.execute(select(Person.id).limit(50))).scalars())

    async def lifecycles() -> float:
        started = time.perf_counter()
        for i in range(n):
            async with sessions() as s:
                task = await create_task(session=s, resident_id=people[0], created_by_id=people[0], org_unit_id=station,
                                         category="生活帮扶", description="bench", now=NOW)
                await offer_task(session=s, task_id=task.id, team_ids=[team], level="station", now=NOW, window=None)
                await accept_task(session=s, task_id=task.id, volunteer_id=people[1 + i % 49], team_id=team, now=NOW)
                await complete_task(session=s, task_id=task.id, volunteer_id=people[1 + i % 49], hours=Decimal(2),
                                    now=NOW)
                await close_task(session=s, task_id=task.id, now=NOW)
                await s.commit()
        return (time.perf_counter() - started) / n * 1000

    with_triggers = await lifecycles()
    async with engine.begin() as conn:
        await conn.run_sync(drop_triggers_sync)
    without = await lifecycles()
    await engine.dispose()
    return {"lifecycle_ms_with_triggers": round(with_triggers, 2), "lifecycle_ms_without": round(without, 2),
            "ratio": round(with_triggers / without, 2)}


def _child(args: argparse.Namespace, url: str, schema: str | None) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--measure", "--url", url, "--runs", str(args.runs),
           "--naive-runs", str(args.naive_runs)] + (["--schema", schema] if schema else [])
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"measuring failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--volunteers", type=int, default=1_200_000)
    p.add_argument("--runs", type=int, default=100)
    p.add_argument("--naive-runs", type=int, default=3)
    p.add_argument("--lifecycles", type=int, default=300)
    p.add_argument("--workdir", default="/tmp")
    p.add_argument("--keep", action="store_true", help="keep the generated database")
    p.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--schema", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(measure(args.url, args.schema, args.runs, args.naive_runs))), flush=True)
        return
    schema = None
    if args.backend == "sqlite":
        path = Path(args.workdir) / f"datamap-{uuid.uuid4().hex[:6]}.db"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = os.environ.get("XINFENG_BENCH_DATABASE_URL", PG_DEFAULT)
        schema = "bench_" + uuid.uuid4().hex[:8]
        asyncio.run(_pg_schema(url, schema, create=True))
    try:
        made = asyncio.run(prepare(url, schema, args.volunteers))
        print("generated:", json.dumps(made, ensure_ascii=False), flush=True)
        result = _child(args, url, schema)
        print("figures:", json.dumps(result, ensure_ascii=False), flush=True)
        print("map names:", json.dumps(asyncio.run(name_for_map(url, schema))), flush=True)
        mapped = asyncio.run(measure_map(url, schema, args.runs))
        print("map:", json.dumps(mapped, ensure_ascii=False), flush=True)
        page = asyncio.run(page_size(url, schema))
        print("page:", json.dumps(page, ensure_ascii=False), flush=True)
        overhead = asyncio.run(write_overhead(url, schema, args.lifecycles))
        print("writes:", json.dumps(overhead), flush=True)
        aim = result["aggregates_province"]["p99_ms"] < 200 and result["peak_rss_mb"] < 300
        print(f"{args.backend}: province p99 {result['aggregates_province']['p99_ms']} ms (naive p50 "
              f"{result['naive_province']['p50_ms']} ms, x{result['ratio_province_p50']}), county p99 "
              f"{result['aggregates_county']['p99_ms']} ms (naive x{result['ratio_county_p50']}), peak "
              f"{result['peak_rss_mb']} MB — aim {'met' if aim else 'NOT met'}", flush=True)
        map_aim = mapped["province_map"]["p99_ms"] < 200 and page["total_kb"] < 2048
        print(f"{args.backend}: province map p99 {mapped['province_map']['p99_ms']} ms, city map p99 "
              f"{mapped['city_map']['p99_ms']} ms, page with the map {page['total_kb']} KB — aim "
              f"{'met' if map_aim else 'NOT met'}", flush=True)
    finally:
        if args.backend == "sqlite" and not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        elif schema and not args.keep:
            asyncio.run(_pg_schema(url, schema, create=False))


async def _pg_schema(url: str, schema: str, *, create: bool) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"' if create else f'DROP SCHEMA "{schema}" CASCADE'))
    await engine.dispose()


if __name__ == "__main__":
    main()
