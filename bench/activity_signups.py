"""Benchmark: simultaneous activity sign-ups (报名) against simultaneous task accepts (接单).

Run by hand: `.venv/bin/python bench/activity_signups.py [N] [PLACES]` (default 500 volunteers
for 100 places). Every volunteer signs up at once, each in its own transaction; the baseline,
measured in the same run on the same database, is the same number of volunteers racing
`accept_task` for a task needing the same number of people — the existing atomic claim.
Prints sign-ups per second, accepts per second and the ratio, on SQLite (a temporary file)
and, when `XINFENG_TEST_DATABASE_URL` is set, on PostgreSQL in a throw-away schema.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.activities.activities import create_activity, sign_up
from storage.db import create_all, create_engine, session_factory
from storage.models import OrgUnit, Person, Team
from storage.tasks.transitions import accept_task, create_task, offer_task

NOW = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)


async def _setup(sessions: async_sessionmaker[AsyncSession], n: int, places: int) -> tuple[int, int, int, list[int]]:
    async with sessions() as s:
        unit = OrgUnit(code=f"U{uuid.uuid4().hex[:6]}", name="站", level="station", path="")
        s.add(unit)
        await s.flush()
        unit.path = f"/{unit.id}/"
        team = Team(code=f"T{uuid.uuid4().hex[:6]}", name="队", org_unit_id=unit.id, categories="|其他|",
                    invite_code=uuid.uuid4().hex[:8])
        people = [Person(name=f"v{i}", is_volunteer=True, created_at=NOW) for i in range(n)]
        s.add_all([team, *people])
        await s.flush()
        activity = await create_activity(session=s, team_id=team.id, org_unit_id=unit.id, title="包饺子",
                                         starts_at=NOW + timedelta(days=1), ends_at=NOW + timedelta(days=1, hours=2),
                                         now=NOW, created_by_id=None, capacity=places)
        task = await create_task(session=s, resident_id=people[0].id, created_by_id=people[0].id, org_unit_id=unit.id,
                                 category="其他", description="帮忙", now=NOW, volunteers_needed=places)
        await offer_task(session=s, task_id=task.id, team_ids=[team.id], level="station", now=NOW, window=None)
        await s.commit()
        return activity.id, task.id, team.id, [p.id for p in people]


async def _race(sessions: async_sessionmaker[AsyncSession], people: list[int], one) -> tuple[float, Counter]:
    async def attempt(vid: int):
        async with sessions() as s:
            result = await one(s, vid)
            await s.commit()
            return result

    start = time.perf_counter()
    results = await asyncio.gather(*(attempt(v) for v in people))
    elapsed = time.perf_counter() - start
    return elapsed, Counter(getattr(r, "result", r).value for r in results)


async def _bench(label: str, engine: AsyncEngine, n: int, places: int) -> None:
    await create_all(engine)
    sessions = session_factory(engine)
    activity_id, task_id, team_id, people = await _setup(sessions, n, places)
    signups, signup_counts = await _race(
        sessions, people, lambda s, v: sign_up(session=s, activity_id=activity_id, volunteer_id=v, now=NOW))
    accepts, accept_counts = await _race(
        sessions, people, lambda s, v: accept_task(session=s, task_id=task_id, volunteer_id=v, team_id=team_id, now=NOW))
    print(f"[{label}] {n} volunteers at once, {places} places")
    print(f"  sign_up:     {n / signups:8.1f} /s  {dict(signup_counts)}")
    print(f"  accept_task: {n / accepts:8.1f} /s  {dict(accept_counts)} (baseline)")
    print(f"  ratio sign_up/accept_task: {accepts / signups:.3f}")


async def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    places = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        try:
            await _bench("sqlite", engine, n, places)
        finally:
            await engine.dispose()
    pg = os.environ.get("XINFENG_TEST_DATABASE_URL")
    if not pg:
        return
    schema = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(pg)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(pg, connect_args={"server_settings": {"search_path": schema}}, pool_size=20, max_overflow=10)
    try:
        await _bench("postgresql", engine, n, places)
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
