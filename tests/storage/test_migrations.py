"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import asyncio
import os
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
