"""A scratch database for a bench: a SQLite file in a work directory, or a schema of its own on PostgreSQL.

The province-scale benches (`escalation.py`, `scheduler_fanout.py`) build millions of rows they
must not leave behind in a shared server: each gets its own schema (or file) and drops it after.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import text

from storage.db import create_engine


async def create_scratch(backend: str, *, workdir: str, pg_url: str, stem: str) -> tuple[str, str | None, Path | None]:
    """(url, PostgreSQL schema or None, SQLite path or None) of a new, empty bench database."""
    if backend == "sqlite":
        path = Path(workdir) / f"{stem}-{uuid.uuid4().hex[:6]}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{path}", None, path
    schema = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(pg_url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    return pg_url, schema, None


async def drop(url: str, schema: str | None, path: Path | None) -> None:
    """Remove the bench database."""
    if schema:
        admin = create_engine(url)
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()
    if path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
