"""Retention: the scheduler prunes what the delivery pipeline has finished with, a batch per transaction.

Runs at most once every `EVERY` (finding what is old enough scans the sent-log, which has no
index on its time: cheap once an hour, not every tick) and deletes at most `MAX_BATCHES` batches
a run, each in its own short transaction under the leader's fence, so a first run over a year of
history spreads over a few runs instead of one long-locking delete.
The age is `XINFENG_RETENTION_DAYS` (90 by default), carried by the run (`JobRun.retention_days`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from scheduler.job import Firing, JobRun, guard
from storage.db import Session, Sessions
from storage.messaging.retention import BATCH, prune_batch

MAX_BATCHES = 20
EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class PruneJob:
    """Deletes sent-log, handled inbox and delivered outbox rows older than the retention age."""

    name: str = "prune"
    batch: int = BATCH
    max_batches: int = MAX_BATCHES
    every: timedelta = EVERY
    # When this process last ran it (a scheduler tick's instant): the next run waits `every`.
    last: list[datetime] = field(default_factory=list, compare=False)

    async def run(self, sessions: Sessions, run: JobRun) -> int:
        if self.last and timedelta(0) <= run.now - self.last[0] < self.every:
            return 0
        self.last[:] = [run.now]
        before = run.now - timedelta(days=max(1, run.retention_days))
        total = 0
        for _ in range(self.max_batches):
            async with sessions() as session:
                went = await prune_batch(session, before=before, batch=self.batch)
                if not went.total:
                    await session.rollback()
                    break
                await guard(session, run.fence)  # last, before the commit: a deposed leader deletes nothing
                await session.commit()
            total += went.total
            if max(went.sent_log, went.inbox, went.outbox) < self.batch:
                break
        if total:
            run.note(self.name, f"{total} 行")
        return total

    async def ahead(self, session: Session, now: datetime, end: datetime, tz: tzinfo) -> list[Firing]:
        return []


PRUNE_JOB = PruneJob()
