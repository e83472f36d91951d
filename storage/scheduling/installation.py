"""When this installation first ran: scheduled jobs owe nothing that fell due before it.

A new installation must not greet every admin with last month's report, nor every captain
with last week's digest, for periods before it existed (all zeros). The scheduler's first run
records its instant in the one `installation` row, and every run on every worker reads that
same row afterwards. A database that already had a history when migration 0007 ran was stamped
with its earliest record instead, so an upgraded installation loses nothing it was owed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from storage.db import Session
from storage.models.scheduling import Installation
from storage.sql import insert_ignoring

ROW = 1  # the installation's one row


async def first_run(session: Session) -> datetime | None:
    """When the installation first ran, if it has run yet."""
    stmt = select(Installation.first_run_at).where(Installation.id == ROW)
    return (await session.execute(stmt)).scalar_one_or_none()


async def record_first_run(session: Session, now: datetime) -> datetime:
    """The installation's first run, recording `now` as it unless one is recorded already.

    Several workers starting at once all insert; the primary key lets one row in (on
    PostgreSQL the others wait for its commit, then insert nothing), and every one of them
    returns the instant that was kept. The caller commits.
    """
    recorded = await first_run(session)
    if recorded is not None:
        return recorded
    await session.execute(insert_ignoring(session, Installation).values(id=ROW, first_run_at=now))
    kept = await first_run(session)
    assert kept is not None, "the installation row was inserted or already there"
    return kept
