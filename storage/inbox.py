"""Inbound messages, stored before they are acknowledged, so a redelivery has no second effect."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxMessage


async def store_inbound(
    session: AsyncSession, *, platform: str, message_id: str, payload: dict[str, Any], now: datetime
) -> int | None:
    """Store an inbound message; return its row id, or None if it was seen before.

    Commits on its own: a platform may be told "received" only after this returns.
    """
    row = InboxMessage(platform=platform, message_id=message_id, payload=payload, received_at=now)
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return None
    return row.id


async def mark_inbound(session: AsyncSession, row_id: int, status: str, error: str | None = None) -> None:
    """Set an inbox row's status (processed/failed) in the caller's transaction."""
    await session.execute(
        update(InboxMessage).where(InboxMessage.id == row_id).values(status=status, error=error)
    )


async def unprocessed(session: AsyncSession, platform: str, limit: int = 100) -> list[InboxMessage]:
    """Stored but not yet processed messages (after a crash), oldest first."""
    stmt = (
        select(InboxMessage)
        .where(InboxMessage.platform == platform, InboxMessage.status == "received")
        .order_by(InboxMessage.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars().all())
