"""Retention: what the pipeline has finished with is deleted after a while, in small batches.

At province scale the sent-log grows by about a million rows a month, and every handled inbox
row and delivered outbox row stays behind too. Rows older than the retention age go, a batch
per transaction (a few thousand rows by primary key: short locks, no long scan under a lock):

- the sent-log (`schedule_sends`) of periods sent before then — a job never looks back that far
  for what it still owes, and its firing row (kept) marks the period as fired;
- inbox rows handled before then (no platform redelivers an update that old); failed and
  unhandled ones are kept;
- outbox rows delivered before then, except those about something (`ref`: a later edit needs
  their platform ids); undeliverable rows are kept as the record of what failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.messaging import inbox, outbox
from storage.models import ScheduleSend

DEFAULT_DAYS = 90
BATCH = 5000


@dataclass(frozen=True)
class Prunable:
    """How many rows of each kind are older than the retention age."""

    sent_log: int
    inbox: int
    outbox: int

    @property
    def total(self) -> int:
        return self.sent_log + self.inbox + self.outbox


async def prune_sent_log(session: AsyncSession, *, before: datetime, batch: int = BATCH) -> int:
    """Delete up to `batch` sent-log rows written before `before`; how many went."""
    key = (ScheduleSend.job, ScheduleSend.period, ScheduleSend.target_type, ScheduleSend.target_id)
    oldest = select(*key).where(ScheduleSend.sent_at < before).limit(batch)
    rows = [tuple(r) for r in (await session.execute(oldest)).all()]
    if not rows:
        return 0
    await session.execute(delete(ScheduleSend).where(tuple_(*key).in_(rows)))
    return len(rows)


async def count_prunable(session: AsyncSession, *, before: datetime) -> Prunable:
    """What a prune as of `before` would delete (`xinfeng db prune --dry-run`)."""
    sent = int((await session.execute(
        select(func.count()).select_from(ScheduleSend).where(ScheduleSend.sent_at < before))).scalar_one())
    return Prunable(sent_log=sent, inbox=await inbox.count_prunable(session, before=before),
                    outbox=await outbox.count_prunable(session, before=before))


async def prune_batch(session: AsyncSession, *, before: datetime, batch: int = BATCH) -> Prunable:
    """One batch of each kind, in the caller's transaction; what went."""
    return Prunable(sent_log=await prune_sent_log(session, before=before, batch=batch),
                    inbox=await inbox.prune_handled(session, before=before, batch=batch),
                    outbox=await outbox.prune_delivered(session, before=before, batch=batch))
