"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production).

Nothing is created at import time: the composition root calls `create_engine` with the
configured URL and passes the session factory down. `transient` tells an error of the
infrastructure (a connection reset, a database restarting, Redis away, a deadlock) — worth
trying again — from a bug.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import BigInteger, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine as SyncEngine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.orm import Session as SyncSession
from sqlalchemy.pool import NullPool

from storage import sqlite_driver
from storage.models import metadata

# Seconds a transaction waits for SQLite's write lock held by another process (a CLI command, a worker).
LOCK_TIMEOUT = 30.0

# The types the layers above hold and pass back in: only `storage/` runs SQL with a session.
Session = AsyncSession
Sessions = async_sessionmaker[AsyncSession]


def is_sqlite(url: str) -> bool:
    """Tell whether a database URL points at SQLite."""
    return url.startswith("sqlite")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an async engine; on SQLite, one writer connection (writers queue) and WAL readers.

    SQLite allows one writer. A deferred transaction that reads and then writes can fail at
    once with "database is locked" when another writer got there first, so every
    transaction starts with BEGIN IMMEDIATE — that is what makes a conditional UPDATE an
    atomic claim on SQLite, as row locks do on PostgreSQL. A file database is written through
    one pooled connection: transactions wait their turn in the pool's queue (first come, first
    served) instead of spinning in SQLite's busy handler over many connections, which under load
    stretched a 2 ms transaction to seconds. Sessions opened with `reading(sessions)` read
    through a pool of WAL readers beside it, never waiting for the writer.
    """
    if is_sqlite(url):
        on_file = ":memory:" not in url and "mode=memory" not in url
        if not on_file:
            kwargs.setdefault("connect_args", {}).setdefault("timeout", LOCK_TIMEOUT)
            engine = _create_async_engine(url, **kwargs)
            _sqlite_events(engine, url, read_only=False, busy_timeout_ms=int(LOCK_TIMEOUT * 1000))
            return engine
        if "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", 60)
        # A file: statements run on the loop's thread, locks are waited out asynchronously
        # (storage.sqlite_driver says why), so the driver's own busy wait is off.
        path = make_url(url).database or ""
        engine = _create_async_engine(url, async_creator=sqlite_driver.connector(path, timeout=LOCK_TIMEOUT),
                                      **kwargs)
        _sqlite_events(engine, url, read_only=False, busy_timeout_ms=0)
        # No pool: each reading session opens its own connection and closes it, so nothing is
        # left open when the writer engine is disposed.
        reader = _create_async_engine(url, async_creator=sqlite_driver.connector(path, timeout=LOCK_TIMEOUT),
                                      poolclass=NullPool)
        _sqlite_events(reader, url, read_only=True, busy_timeout_ms=0)
        _READERS[engine.sync_engine] = reader.sync_engine
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return _create_async_engine(url, **kwargs)


def _sqlite_events(engine: AsyncEngine, url: str, *, read_only: bool, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        if dbapi_conn.isolation_level is not None:
            dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        if ":memory:" not in url:
            cur.execute("PRAGMA journal_mode=WAL")
        if read_only:
            cur.execute("PRAGMA query_only=ON")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A reader takes a snapshot and never the write lock; a writer takes the lock at once.
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


# SQLite writer engine → its WAL readers (absent for PostgreSQL: one engine serves both).
_READERS: weakref.WeakKeyDictionary[SyncEngine, SyncEngine] = weakref.WeakKeyDictionary()
READ_ONLY = "xinfeng_read_only"


class _RoutingSession(SyncSession):
    """A session that reads through the WAL readers when opened by `reading` (SQLite files only)."""

    def get_bind(self, mapper: Any = None, clause: Any = None, **kw: Any) -> Any:
        bind = super().get_bind(mapper, clause=clause, **kw)
        if self.info.get(READ_ONLY):
            return _READERS.get(bind, bind)
        return bind


def reading(sessions: async_sessionmaker[AsyncSession]) -> AsyncSession:
    """A session for reads only: on SQLite it never waits for the writer (it must not write)."""
    return sessions(info={READ_ONLY: True})


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (and can be opened for reading only)."""
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=_RoutingSession)


# SQLSTATE classes and codes that say "try again": a lost or refused connection, a server shutting
# down or starting, too many connections, a deadlock or serialization failure, a cancelled query.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57")
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03"}
# Redis' errors, by name: the connection, a timeout, a server loading its data or read-only.
_TRANSIENT_NAMES = {"ConnectionError", "TimeoutError", "BusyLoadingError", "ReadOnlyError",
                    "ConnectionDoesNotExistError", "InterfaceError", "InternalClientError"}


def transient(exc: BaseException) -> bool:
    """Whether an error comes from the infrastructure (database, Redis, network), not from a bug.

    Such an error is worth retrying when the infrastructure is back: a message it interrupted is
    handled again, a send it interrupted is tried again without counting an attempt.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _transient_one(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _transient_one(exc: BaseException) -> bool:
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                        sa_exc.TimeoutError, sa_exc.InvalidatePoolError)):
        return True
    if isinstance(exc, sa_exc.ResourceClosedError):
        return True
    code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if isinstance(code, str) and (code in _TRANSIENT_SQLSTATES or code[:2] in _TRANSIENT_SQLSTATE_CLASSES):
        return True
    module = type(exc).__module__ or ""
    if module.startswith(("redis", "asyncpg")):
        return any(cls.__name__ in _TRANSIENT_NAMES or "Connection" in cls.__name__ for cls in type(exc).__mro__)
    return False


async def create_all(engine: AsyncEngine) -> None:
    """Create every table directly (tests); deployments use `xinfeng db upgrade`."""
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)


# The ids an integer primary key can hold: 32 bits (PostgreSQL's serial), 64 bits for BigInteger.
_ID_RANGE = {False: 2**31 - 1, True: 2**63 - 1}


def id_in_range(model: type[Any], row_id: int) -> bool:
    """Whether an id typed by someone could be a row of `model` (a 20-digit "#" cannot, on any backend)."""
    column = next(iter(model.__table__.primary_key.columns))
    big = isinstance(column.type, BigInteger) or "BIGINT" in str(column.type).upper()
    return 0 < row_id <= _ID_RANGE[big]


async def load(session: AsyncSession, model: type[Any], row_id: int | None) -> Any:
    """One row by primary key (from the session's identity map when already loaded), or None.

    An id no row could have is None rather than a database error ("接单 #99999999999999999999").
    """
    if row_id is None or not id_in_range(model, row_id):
        return None
    return await session.get(model, row_id)
