"""SQLite for the async engine with one step per statement, not four.

SQLAlchemy's aiosqlite dialect reaches the database through aiosqlite, which runs every driver
call — cursor(), execute(), fetchall(), close(), commit() — as its own hop to the connection's
thread and back. Each hop costs ~90 µs on this machine (the call itself: ~1 µs), and a message
takes ~37 of them: a third of handling one was spent crossing threads. This connection keeps
SQLAlchemy's aiosqlite dialect (so nothing else changes) but does a statement's whole driver
work — execute, read the first rows, close — in one step, and runs that step on the event
loop's own thread: SQLite on a local file in WAL mode answers a short statement in
microseconds, less than one hop would cost.

What could block the loop is waiting for the write lock, held by another process (a CLI command,
a second worker). The driver's own busy wait is therefore off (busy_timeout 0); a statement that
finds the database locked is retried after an *asynchronous* pause, with back-off, until the
configured timeout — the loop keeps serving everything else meanwhile.

Large results are read in chunks of `CHUNK` rows, so a streamed export (`yield_per`) never holds
the whole table.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

CHUNK = 1000
# Pauses between tries while another process holds the write lock: short at first (a commit
# elsewhere takes a millisecond or two), growing to a tenth of a second.
FIRST_PAUSE = 0.001
LONGEST_PAUSE = 0.1


def _locked(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or \
        "database is locked" in str(exc)


class Connection:
    """What SQLAlchemy's aiosqlite adapter expects of an aiosqlite connection, without the thread."""

    def __init__(self, raw: sqlite3.Connection, timeout: float) -> None:
        self._conn = raw
        self.timeout = timeout

    async def run(self, call: Callable[[], Any], *, offload: bool = False) -> Any:
        """Run a driver call (`offload`: the call returns a future to await); while the database is
        locked by another process, wait without blocking."""
        pause = FIRST_PAUSE
        deadline: float | None = None
        while True:
            try:
                return await call() if offload else call()
            except sqlite3.OperationalError as exc:
                if not _locked(exc):
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self.timeout
                elif now >= deadline:
                    raise
                await asyncio.sleep(min(pause, max(deadline - now, 0)))
                pause = min(pause * 2, LONGEST_PAUSE)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._conn.isolation_level = value

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    async def cursor(self) -> Cursor:
        return Cursor(self)

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        cursor = Cursor(self)
        await cursor.execute(sql, parameters)
        return cursor

    async def commit(self) -> None:
        # The one call that waits on the disk (the WAL's fsync, ~2 ms here): off the loop's thread,
        # so everything else goes on meanwhile; one hop a transaction rather than forty.
        loop = asyncio.get_running_loop()
        await self.run(lambda: loop.run_in_executor(None, self._conn.commit), offload=True)

    async def rollback(self) -> None:
        await self.run(self._conn.rollback)

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        """SQLAlchemy's forced close (a connection given up on): nothing to stop but the file handle."""
        self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)


class Cursor:
    """A statement's cursor: executed and its first rows read in one call, the rest read on demand."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._cursor: sqlite3.Cursor | None = None
        self._rows: deque[Any] = deque()
        self._more = False
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def _take(self, cursor: sqlite3.Cursor) -> None:
        self.description = cursor.description
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid
        if cursor.description is None:
            cursor.close()
            return
        rows = cursor.fetchmany(CHUNK)
        self._rows.extend(rows)
        if len(rows) == CHUNK:
            self._cursor, self._more = cursor, True
        else:
            cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] | None = None) -> Cursor:
        raw = self._connection._conn

        def call() -> sqlite3.Cursor:
            return raw.execute(sql, () if parameters is None else parameters)

        self._take(await self._connection.run(call))
        return self

    async def executemany(self, sql: str, parameters: Sequence[Any]) -> Cursor:
        raw = self._connection._conn
        self._take(await self._connection.run(lambda: raw.executemany(sql, parameters)))
        return self

    def _fill(self, wanted: int | None) -> None:
        while self._more and (wanted is None or len(self._rows) < wanted):
            assert self._cursor is not None
            rows = self._cursor.fetchmany(CHUNK)
            self._rows.extend(rows)
            if len(rows) < CHUNK:
                self._more = False
                self._cursor.close()
                self._cursor = None

    async def fetchall(self) -> list[Any]:
        self._fill(None)
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def fetchone(self) -> Any:
        self._fill(1)
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = size or self.arraysize
        self._fill(size)
        return [self._rows.popleft() for _ in range(min(size, len(self._rows)))]

    async def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None
        self._more = False
        self._rows.clear()


def connector(path: str, *, timeout: float, uri: bool = False) -> Callable[[], Any]:
    """The `async_creator` for `create_async_engine`: connections on `path`, locks waited out asynchronously."""

    async def connect() -> Connection:
        raw = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False, uri=uri)
        return Connection(raw, timeout)

    return connect
