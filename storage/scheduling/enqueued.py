"""What a run of the jobs enqueued: the outbox rows written after a mark, for `xinfeng jobs run` to print."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.db import Session
from storage.models import OutboxMessage


async def last_outbox_id(session: Session) -> int:
    """The id of the newest outbox row (0 for an empty outbox): the mark before a run."""
    return int((await session.execute(select(func.coalesce(func.max(OutboxMessage.id), 0)))).scalar_one())


async def enqueued_after(session: Session, outbox_id: int) -> list[OutboxMessage]:
    """Every outbox row written after the mark, oldest first."""
    return list((await session.execute(
        select(OutboxMessage).where(OutboxMessage.id > outbox_id).order_by(OutboxMessage.id)
    )).scalars())
