"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production).

Nothing is created at import time: the composition root calls `create_engine` with the
configured URL and passes the session factory down.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from storage.models import metadata

# The types the layers above hold and pass back in: only `storage/` runs SQL with a session.
Session = AsyncSession
Sessions = async_sessionmaker[AsyncSession]


def is_sqlite(url: str) -> bool:
    """Tell whether a database URL points at SQLite."""
    return url.startswith("sqlite")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an async engine; on SQLite, make writers queue instead of failing.

    SQLite allows one writer. A deferred transaction that reads and then writes can fail at
    once with "database is locked" when another writer got there first, so every
    transaction starts with BEGIN IMMEDIATE and waits (busy_timeout) for its turn. That is
    what makes a conditional UPDATE an atomic claim on SQLite, as row locks do on PostgreSQL.
    """
    if is_sqlite(url):
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = _create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide when transactions begin.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return _create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_all(engine: AsyncEngine) -> None:
    """Create every table directly (tests); deployments use `xinfeng db upgrade`."""
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)


async def load(session: AsyncSession, model: type[Any], row_id: int | None) -> Any:
    """One row by primary key (from the session's identity map when already loaded), or None."""
    if row_id is None:
        return None
    return await session.get(model, row_id)
