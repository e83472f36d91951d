"""The processes that send outbox rows, and their heartbeats: the lease on the rows each one claimed.

A worker registers once (`register_worker`), renews `heartbeat_at` every second or so
(`beat`), and claims rows with its id (`storage.messaging.outbox.claim_many`, or as they are
written, `take_direct`). A worker whose heartbeat is older than the lease is dead: its rows go
back to the relay (`storage.messaging.outbox.reclaim_from`). Times are the workers' clocks,
which agree closely enough on one host or an NTP-kept fleet; the lease is several beats long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DeliveryWorker, OutboxMessage
from storage.sql import rowcount


@dataclass(frozen=True)
class DeadWorker:
    """A worker whose lease ran out: its id and the journal it kept (if it kept one)."""

    id: int
    name: str
    journal: str | None


async def register_worker(session: AsyncSession, *, name: str, journal: str | None, now: datetime) -> int:
    """A new worker, beating as of `now`; its id."""
    stmt = insert(DeliveryWorker).values(name=name, started_at=now, heartbeat_at=now, journal=journal)
    return int((await session.execute(stmt.returning(DeliveryWorker.id))).scalar_one())


async def beat(session: AsyncSession, worker_id: int, *, now: datetime) -> bool:
    """Renew a worker's lease; False when its row is gone (it was declared dead and taken over)."""
    result = await session.execute(update(DeliveryWorker).where(DeliveryWorker.id == worker_id)
                                   .values(heartbeat_at=now))
    return rowcount(result) == 1


async def live_workers(session: AsyncSession, *, now: datetime, lease: timedelta) -> int:
    """How many workers beat within the lease (at least this one, when it asks)."""
    stmt = select(func.count(DeliveryWorker.id)).where(DeliveryWorker.heartbeat_at >= now - lease)
    return int((await session.execute(stmt)).scalar_one())


async def dead_workers(session: AsyncSession, *, now: datetime, lease: timedelta) -> list[DeadWorker]:
    """Workers whose heartbeat is older than the lease."""
    stmt = (select(DeliveryWorker.id, DeliveryWorker.name, DeliveryWorker.journal)
            .where(DeliveryWorker.heartbeat_at < now - lease).order_by(DeliveryWorker.id))
    return [DeadWorker(int(i), str(n), j) for i, n, j in (await session.execute(stmt)).all()]


async def still_dead(session: AsyncSession, worker_id: int, *, now: datetime, lease: timedelta) -> bool:
    """Whether a worker's heartbeat is still older than the lease, its row locked until the commit: a
    beat landing meanwhile waits, and one that landed first saves it from being taken over."""
    stmt = select(DeliveryWorker.heartbeat_at).where(DeliveryWorker.id == worker_id).with_for_update()
    beat_at = (await session.execute(stmt)).scalar_one_or_none()
    return beat_at is not None and beat_at < now - lease


async def forget_worker(session: AsyncSession, worker_id: int) -> bool:
    """Remove a worker's row once none of its rows is left claimed; False if some still are."""
    held = (await session.execute(select(OutboxMessage.id).where(
        OutboxMessage.status == "sending", OutboxMessage.claimed_by == worker_id).limit(1))).first()
    if held is not None:
        return False
    await session.execute(delete(DeliveryWorker).where(DeliveryWorker.id == worker_id))
    return True
