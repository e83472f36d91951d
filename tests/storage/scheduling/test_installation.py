"""The installation's first run: written once whoever races to write it, and stamped by migration 0007 on upgrade.

A database upgraded with a history takes its earliest record as its first run, so it still
gets what it was owed; an empty one gets no row until the scheduler first runs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, select, text

from scheduler.runner import run_due
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import UTCDateTime
from storage.models.scheduling import Installation
from storage.scheduling.installation import first_run, record_first_run
from tests.conftest import BACKENDS, _pg_admin, _pg_database_url, build_network

TZ = ZoneInfo("Asia/Shanghai")
OCTOBER = datetime(2026, 10, 1, 1, 0, tzinfo=timezone.utc)


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database (no schema yet) on each configured backend, for migrations to build."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'upgraded.db'}"
        return
    name = "xf_up_" + uuid.uuid4().hex[:10]
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_database_url(name)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_concurrent_first_runs_keep_one_instant(sessions) -> None:
    start = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)

    async def worker(delay_minutes: int) -> datetime:
        async with sessions() as s:
            kept = await record_first_run(s, start + timedelta(minutes=delay_minutes))
            await s.commit()
            return kept

    kept = await asyncio.gather(*(worker(i) for i in range(5)))
    assert len(set(kept)) == 1 and kept[0] in {start + timedelta(minutes=i) for i in range(5)}
    async with sessions() as s:
        assert len((await s.execute(select(Installation))).scalars().all()) == 1
        # Later runs read it and change nothing.
        assert await record_first_run(s, start + timedelta(days=30)) == kept[0]


async def test_an_empty_database_gets_its_first_run_from_the_scheduler(database_url: str) -> None:
    await asyncio.to_thread(upgrade, database_url)
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as s:
            assert await first_run(s) is None
    finally:
        await engine.dispose()


async def test_an_installation_upgraded_with_history_still_gets_what_it_is_owed(database_url: str) -> None:
    # Running since October (it sent that month's report), at the schema before this change.
    await asyncio.to_thread(upgrade, database_url, "0006")
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO schedule_firings (job, period, scope, due_at, fired_at, text, recipients) "
                "VALUES ('admin_report', '2026-10-01', 'all', :at, :at, '', 0)"
            ).bindparams(bindparam("at", type_=UTCDateTime())), {"at": OCTOBER})
    finally:
        await engine.dispose()

    await asyncio.to_thread(upgrade, database_url)
    engine = create_engine(database_url)
    try:
        sessions = session_factory(engine)
        async with sessions() as s:
            assert await first_run(s) == OCTOBER
            await build_network(s, OCTOBER)
        # Down over the 1st, back at 10:00: November's report and Monday's digest are still owed.
        done = await run_due(sessions, datetime(2026, 12, 1, 10, tzinfo=TZ), tz=TZ)
        assert done["admin_report"] == 4 and done["captain_digest"] == 1
        async with sessions() as s:
            assert await first_run(s) == OCTOBER  # the run did not move it
    finally:
        await engine.dispose()
