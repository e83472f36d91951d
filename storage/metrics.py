"""What the health and metrics endpoints ask the database: is it there, at which schema, how much is owed.

Each function is one small query, cheap enough to run at every scrape and readiness probe:
the outbox is counted only for its unfinished statuses (indexed; sent rows, the bulk, are
never scanned) and tasks by status (indexed).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, inspect, or_, select, text

from storage.db import Session
from storage.models import OutboxMessage, Task, TaskStatus

# The outbox statuses worth watching: what is owed, in flight, and what could not be delivered.
OPEN_OUTBOX = ("pending", "sending", "undeliverable")
VERSION_TABLE = "alembic_version"


async def ping(session: Session) -> None:
    """Run the smallest query there is; raises when the database does not answer."""
    await session.execute(text("SELECT 1"))


async def schema_revision(session: Session) -> str | None:
    """The migration revision the database is at, or None when it was never migrated."""
    stamped = await session.run_sync(lambda s: inspect(s.connection()).has_table(VERSION_TABLE))
    if not stamped:
        return None
    return (await session.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))).scalars().first()


async def outbox_counts(session: Session) -> dict[tuple[str, str], int]:
    """Outbox rows per (platform, status) for the unfinished statuses; no platform reads "none"."""
    rows = await session.execute(
        select(OutboxMessage.platform, OutboxMessage.status, func.count())
        .where(OutboxMessage.status.in_(OPEN_OUTBOX))
        .group_by(OutboxMessage.platform, OutboxMessage.status)
    )
    return {(platform or "none", status): count for platform, status, count in rows.all()}


async def oldest_due(session: Session, now: datetime) -> datetime | None:
    """When the oldest message that is owed and may go now was written (None: nothing is waiting)."""
    return (await session.execute(
        select(func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status == "pending",
               or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now))
    )).scalar()


async def task_counts(session: Session) -> dict[str, int]:
    """Tasks per status, every status of the lifecycle present (0 when none is in it)."""
    rows = await session.execute(select(Task.status, func.count()).group_by(Task.status))
    return {**{s.value: 0 for s in TaskStatus}, **{status: count for status, count in rows.all()}}
