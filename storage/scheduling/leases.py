"""The scheduler's leader lease in the database, and the fencing token every scheduler write checks.

Two ways to lead: a Redis lease (`scheduler.lease`) that, on each new tenure, takes the next
token here with `begin_tenure`; or, without Redis, this table alone (`hold_db_lease`), a
conditional UPDATE that only succeeds when the lease is free, expired, or already ours.
Either way the token only grows, and `check_fence` — run first in every transaction that
writes what the scheduler owes — fails for anyone but the current tenure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.scheduling import SchedulerLease
from storage.sql import insert_ignoring, rowcount


class FencedOut(Exception):
    """A write carried a stale fencing token: another scheduler has taken over."""


@dataclass(frozen=True)
class Fence:
    """A leader's tenure: the lease name, who holds it, and the token of this tenure."""

    name: str
    holder: str
    token: int


def _rows(result: object) -> int:
    return rowcount(result)


async def _ensure_row(session: AsyncSession, name: str) -> None:
    await session.execute(insert_ignoring(session, SchedulerLease).values(name=name, token=0))


async def check_fence(session: AsyncSession, fence: Fence) -> None:
    """Fail unless `fence` is the current tenure; call it first in the transaction it guards.

    On PostgreSQL the UPDATE locks the lease row until commit, so a new tenure cannot begin
    half-way through a guarded write; on SQLite writers are serialised anyway.
    """
    result = await session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == fence.name, SchedulerLease.holder == fence.holder,
               SchedulerLease.token == fence.token)
        .values(token=SchedulerLease.token)
        .execution_options(synchronize_session=False)
    )
    if _rows(result) != 1:
        raise FencedOut(f"lease {fence.name}: token {fence.token} of {fence.holder} is no longer current")


async def begin_tenure(session: AsyncSession, *, name: str, holder: str, now: datetime,
                       expires_at: datetime | None = None) -> Fence:
    """Start a new tenure for `holder` (who won the lease elsewhere) and return its fence."""
    await _ensure_row(session, name)
    await session.execute(
        update(SchedulerLease).where(SchedulerLease.name == name)
        .values(holder=holder, token=SchedulerLease.token + 1, renewed_at=now, expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    token = (await session.execute(select(SchedulerLease.token).where(SchedulerLease.name == name))).scalar_one()
    return Fence(name, holder, int(token))


async def hold_db_lease(
    session: AsyncSession, *, name: str, holder: str, now: datetime, ttl: timedelta, current: Fence | None
) -> Fence | None:
    """Renew our tenure, or take the lease if it is free or expired; None while another holds it."""
    if current is not None:
        renewed = await session.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == name, SchedulerLease.holder == holder,
                   SchedulerLease.token == current.token)
            .values(expires_at=now + ttl, renewed_at=now)
            .execution_options(synchronize_session=False)
        )
        if _rows(renewed) == 1:
            return current
    take = (
        update(SchedulerLease)
        .where(SchedulerLease.name == name,
               or_(SchedulerLease.holder.is_(None), SchedulerLease.expires_at.is_(None),
                   SchedulerLease.expires_at <= now))
        .values(holder=holder, token=SchedulerLease.token + 1, expires_at=now + ttl, renewed_at=now)
        .execution_options(synchronize_session=False)
    )
    if _rows(await session.execute(take)) != 1:
        if await session.get(SchedulerLease, name) is not None:
            return None
        await _ensure_row(session, name)  # the very first heartbeat on this database
        if _rows(await session.execute(take)) != 1:
            return None
    token = (await session.execute(select(SchedulerLease.token).where(SchedulerLease.name == name))).scalar_one()
    return Fence(name, holder, int(token))


async def release_db_lease(session: AsyncSession, fence: Fence) -> None:
    """Give the lease up (on shutdown) so a standby takes over at once, not after the TTL."""
    await session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == fence.name, SchedulerLease.holder == fence.holder,
               SchedulerLease.token == fence.token)
        .values(holder=None, expires_at=None)
        .execution_options(synchronize_session=False)
    )


async def lease_state(session: AsyncSession, name: str) -> SchedulerLease | None:
    """The lease row as it stands (for `xinfeng jobs list` and tests)."""
    return await session.get(SchedulerLease, name)
