"""Inbound messages, stored before they are acknowledged, so a redelivery has no second effect."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxMessage
from storage.sql import rowcount


async def store_inbound(
    session: AsyncSession, *, platform: str, message_id: str, payload: dict[str, Any], now: datetime
) -> int | None:
    """Store an inbound message; return its row id, or None if it was seen before.

    Commits on its own: a platform may be told "received" only after this returns.
    """
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        # A redelivery is routine (webhook retries, polling after a restart): insert nothing
        # rather than fail on the unique key. The failing-flush path below was seen to stall
        # the event loop for SQLite's whole busy timeout when duplicates arrived under load.
        insert = sqlite_insert if dialect == "sqlite" else pg_insert
        stmt = (
            insert(InboxMessage)
            .values(platform=platform, message_id=message_id, payload=payload, received_at=now, status="received")
            .on_conflict_do_nothing(index_elements=["platform", "message_id"])
            .returning(InboxMessage.id)
        )
        row_id = (await session.execute(stmt)).scalar_one_or_none()
        await session.commit()
        return row_id
    row = InboxMessage(platform=platform, message_id=message_id, payload=payload, received_at=now)
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return None
    return row.id


async def claim_inbound(session: AsyncSession, row_id: int, status: str, error: str | None = None) -> bool:
    """Move a received row to `status` in the caller's transaction; False if another worker did.

    Done first in the transaction that handles the message: on PostgreSQL a second worker
    recovering the same row waits on its lock and then finds it taken; on SQLite writers queue.
    """
    result = await session.execute(
        update(InboxMessage)
        .where(InboxMessage.id == row_id, InboxMessage.status == "received")
        .values(status=status, error=error)
    )
    return rowcount(result) == 1


async def record_event(
    session: AsyncSession, *, platform: str, message_id: str, payload: dict[str, Any], now: datetime
) -> bool:
    """Store a platform event that is no message (an unfollow) as already processed, in the caller's transaction.

    False when it was seen before: the caller then applies nothing. Its effect is written in the
    same transaction, so a crash leaves neither, and the platform's retry applies both.
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(InboxMessage)
        .values(platform=platform, message_id=message_id, payload=payload, received_at=now, status="processed")
        .on_conflict_do_nothing(index_elements=["platform", "message_id"])
        .returning(InboxMessage.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def unprocessed(
    session: AsyncSession, platform: str, limit: int = 100, *, received_before: datetime | None = None
) -> list[InboxMessage]:
    """Stored but not yet processed messages (after a crash), oldest first; only older ones if asked."""
    stmt = select(InboxMessage).where(InboxMessage.platform == platform, InboxMessage.status == "received")
    if received_before is not None:
        stmt = stmt.where(InboxMessage.received_at <= received_before)
    stmt = stmt.order_by(InboxMessage.id).limit(limit)
    return list((await session.execute(stmt)).scalars().all())
