"""Inbound messages, each recorded once, so a redelivery has no second effect.

A message is normally recorded by the transaction that handles it (`record_handled`): the
inbox row, the message's effects and the replies it owes commit together, and the platform is
told "received" only after that commit. A channel that must answer before it can handle (a
WeChat callback running out of its reply budget) stores the row first (`store_inbound`); the
handling transaction then claims it, and what was stored but never handled is swept up later.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxMessage
from storage.sql import rowcount


# The inbox INSERT (`store_inbound`, `record_handled`), spelled once for SQLite and PostgreSQL
# alike: a dialect's `insert().on_conflict_do_nothing()` has no cache key, so SQLAlchemy compiled
# it anew for every message; a text statement typed by the columns compiles once, binds as they do.
_COLUMNS = InboxMessage.__table__.c
_RECORD = (
    text("INSERT INTO inbox (platform, message_id, received_at, payload, status, error) "
         "VALUES (:platform, :message_id, :received_at, :payload, :status, :error) "
         "ON CONFLICT (platform, message_id) DO NOTHING RETURNING id")
    .bindparams(*(bindparam(name, type_=_COLUMNS[name].type)
                  for name in ("platform", "message_id", "received_at", "payload", "status", "error")))
    .columns(_COLUMNS.id)
)


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
        row_id = (await session.execute(_RECORD, {"platform": platform, "message_id": message_id,
                                                  "payload": payload, "received_at": now, "status": "received",
                                                  "error": None})).scalar_one_or_none()
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


async def record_handled(
    session: AsyncSession, *, platform: str, message_id: str, payload: dict[str, Any], now: datetime,
    status: str = "processed", error: str | None = None,
) -> bool:
    """Record in the handling transaction that a message was handled (or failed); False for a redelivery.

    Written last, just before the commit: the row's unique key then waits only for a concurrent
    handling of the same message (a webhook retry on another worker) to end — which one commits,
    the other sees the row and rolls back. A row stored ahead (`store_inbound`) is claimed instead.
    """
    # A text statement does not flush the session by itself: the handler's rows go first, so the
    # inbox row stays the last thing written.
    await session.flush()
    values = {"platform": platform, "message_id": message_id, "payload": payload, "received_at": now,
              "status": status, "error": error}
    if (await session.execute(_RECORD, values)).scalar_one_or_none() is not None:
        return True
    result = await session.execute(
        update(InboxMessage)
        .where(InboxMessage.platform == platform, InboxMessage.message_id == message_id,
               InboxMessage.status == "received")
        .values(status=status, error=error)
    )
    return rowcount(result) == 1


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


async def prune_handled(session: AsyncSession, *, before: datetime, batch: int) -> int:
    """Delete up to `batch` handled rows received before `before` (oldest first); how many went.

    A redelivery older than that is no longer expected from any platform (Telegram keeps updates a
    day, WeChat retries for 15 seconds). Failed and unhandled rows are kept.
    """
    oldest = (select(InboxMessage.id).where(InboxMessage.status == "processed", InboxMessage.received_at < before)
              .order_by(InboxMessage.id).limit(batch))
    ids = list((await session.execute(oldest)).scalars())
    if not ids:
        return 0
    await session.execute(delete(InboxMessage).where(InboxMessage.id.in_(ids)))
    return len(ids)


async def count_prunable(session: AsyncSession, *, before: datetime) -> int:
    """How many handled rows `prune_handled` would delete."""
    from sqlalchemy import func

    stmt = select(func.count(InboxMessage.id)).where(InboxMessage.status == "processed",
                                                     InboxMessage.received_at < before)
    return int((await session.execute(stmt)).scalar_one())
