"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from storage.db import create_engine
from storage.migrate import upgrade
from storage.models import metadata


async def _diff(url: str, **kw) -> list:
    engine = create_engine(url, **kw)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": False}), metadata)
        )
    await engine.dispose()
    return diff


async def test_sqlite_upgrade_matches_models(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    await asyncio.to_thread(upgrade, url)
    assert await _diff(url) == []
    await asyncio.to_thread(upgrade, url)  # running it again is harmless


async def test_a_database_stamped_at_a_released_empty_revision_gets_the_whole_schema(tmp_path) -> None:
    """0010–0013 went out empty: a database that stopped at 0013 still gets every table on the next start."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'released.db'}"
    await asyncio.to_thread(upgrade, url, "0013")
    missing = {d[1].name for d in await _diff(url) if d[0] == "add_table"}
    assert {"link_requests", "chat_menus"} <= missing  # what the released empty steps left out
    applied = await asyncio.to_thread(upgrade, url)
    assert [step.split(",")[0] for step in applied][:3] == ["0013 -> 0014", "0014 -> 0015", "0015 -> 0016"]
    assert await _diff(url) == []


@pytest.mark.skipif(not os.environ.get("XINFENG_TEST_DATABASE_URL"), reason="XINFENG_TEST_DATABASE_URL not set")
async def test_postgresql_upgrade_matches_models() -> None:
    base = os.environ["XINFENG_TEST_DATABASE_URL"]
    schema = "m_" + uuid.uuid4().hex[:10]
    admin = create_engine(base)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
        # asyncpg takes the search path as a server setting rather than a libpq option.
        import storage.db as db

        original = db._create_async_engine

        def with_path(u, **kw):
            kw.setdefault("connect_args", {}).setdefault("server_settings", {})["search_path"] = schema
            return original(u.split("?")[0], **kw)

        db._create_async_engine = with_path
        try:
            await asyncio.to_thread(upgrade, url)
            assert await _diff(url) == []
        finally:
            db._create_async_engine = original
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.mark.skipif(not os.environ.get("XINFENG_TEST_DATABASE_URL"), reason="XINFENG_TEST_DATABASE_URL not set")
async def test_workers_migrating_at_once_on_postgresql_do_not_collide() -> None:
    """Two worker processes start together on an empty database: one applies every revision, the other waits."""
    base = os.environ["XINFENG_TEST_DATABASE_URL"]
    name = "xf_mig_" + uuid.uuid4().hex[:10]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    script = "import sys; from storage.migrate import upgrade; print(len(upgrade(sys.argv[1])))"
    try:
        workers = [await asyncio.create_subprocess_exec(sys.executable, "-c", script, url,
                                                        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
                   for _ in range(2)]
        results = [await asyncio.wait_for(w.communicate(), timeout=120) for w in workers]
        assert [w.returncode for w in workers] == [0, 0], [err.decode()[-2000:] for _, err in results]
        # Each revision ran once in all: whoever waited found nothing left to apply.
        assert sorted(int(out) for out, _ in results)[0] == 0
        assert await _diff(url) == []
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
