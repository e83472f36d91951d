"""Small SQL helpers every storage module shares: write-once inserts, affected-row counts, org paths."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_ignoring(session: AsyncSession, table: Any) -> Any:
    """An INSERT into `table` (model or Table) that skips rows whose unique key already exists.

    SQLite and PostgreSQL spell upserts the same way but through different dialect classes.
    With INSERT … SELECT on SQLite, give the SELECT a WHERE clause: without one, SQLite cannot
    tell the upsert's ON from a join's ON.
    """
    name = session.bind.dialect.name if session.bind is not None else "sqlite"
    dialect_insert = postgresql.insert if name == "postgresql" else sqlite.insert
    return dialect_insert(table).on_conflict_do_nothing()


def rowcount(result: object) -> int:
    """How many rows an UPDATE or DELETE touched (0 when the driver does not say)."""
    return int(getattr(result, "rowcount", 0))


def path_ids(path: str) -> list[int]:
    """The unit ids along a materialised path, root first: "/1/7/42/" → [1, 7, 42]."""
    return [int(p) for p in path.strip("/").split("/") if p]
