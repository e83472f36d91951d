"""The SQLite connection that runs statements on the loop: same answers, locks waited out without blocking."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from storage import sqlite_driver
from storage.db import create_engine


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "driver.db")


async def test_statements_rows_and_transactions_behave_as_sqlite(path) -> None:
    db = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
            result = await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "甲"}, {"n": "乙"}])
            assert result.rowcount == 2
        with pytest.raises(RuntimeError):
            async with db.begin() as conn:
                await conn.execute(text("INSERT INTO t (name) VALUES ('丙')"))
                raise RuntimeError("the handler broke")  # rolled back with everything else
        async with db.connect() as conn:
            assert (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all() == ["甲", "乙"]
            assert (await conn.execute(text("SELECT name FROM t WHERE id = 9"))).first() is None
            with pytest.raises(OperationalError):
                await conn.execute(text("SELECT nothing FROM nowhere"))
    finally:
        await db.dispose()


async def test_a_large_result_streams_in_chunks(path) -> None:
    rows = sqlite_driver.CHUNK * 2 + 7
    db = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO t (id) VALUES (:i)"), [{"i": i} for i in range(rows)])
        async with db.connect() as conn:
            seen = []
            result = await conn.stream(text("SELECT id FROM t ORDER BY id"))
            sizes = []
            async for part in result.partitions(300):
                sizes.append(len(part))
                seen.extend(r.id for r in part)
            assert seen == list(range(rows))
            assert sizes == [300] * (rows // 300) + [rows % 300]
            assert len((await conn.execute(text("SELECT id FROM t"))).all()) == rows
    finally:
        await db.dispose()


async def test_a_lock_held_by_another_process_is_waited_out_without_blocking_the_loop(path) -> None:
    db = create_engine(f"sqlite+aiosqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)  # as a CLI command in another process would
    try:
        async with db.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t (id) VALUES (1)")

        async def write() -> list[int]:
            async with db.begin() as conn:
                await conn.execute(text("INSERT INTO t (id) VALUES (2)"))
                return (await conn.execute(text("SELECT id FROM t ORDER BY id"))).scalars().all()

        writing = asyncio.create_task(write())
        for _ in range(20):  # the loop goes on serving others while the writer waits for the lock
            await asyncio.sleep(0.001)
        assert not writing.done()
        other.execute("COMMIT")
        assert await asyncio.wait_for(writing, 10) == [1, 2]
    finally:
        other.close()
        await db.dispose()


async def test_a_lock_never_released_fails_after_the_timeout(path) -> None:
    db = create_async_engine(f"sqlite+aiosqlite:///{path}",
                             async_creator=sqlite_driver.connector(path, timeout=0.05))
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="locked"):
            async with db.begin() as conn:
                await conn.execute(text("CREATE TABLE t (id INTEGER)"))
    finally:
        other.execute("ROLLBACK")
        other.close()
        await db.dispose()
