"""Running a job: a scheduled send by its description, or a state routine in one fenced transaction.

Every job is "do what is due and not yet done", safe to run any number of times on any
worker. `Scheduled.run` is the one way a scheduled send happens: read what is owed and not
yet fired; then, in one transaction that first checks the leader's fencing token, open each
firing (its unique key lets only one transaction fan it out) and let the delivery claim and
enqueue its targets. A firing already open — fired before, or a moment ago by another
worker — is skipped, so downtime is caught up once and a second scheduler sends nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Protocol

from scheduler.delivery import Delivery
from scheduler.job import Firing, JobRun, Occurrence, When, guard, still_owed
from storage.db import Session, Sessions
from storage.scheduling.firings import open_firing

Ahead = Callable[[Session, datetime, datetime, tzinfo], Awaitable[list[Firing]]]


class Job(Protocol):
    """What the runner needs of a job: its name, a run, and what lies ahead for `xinfeng jobs list`."""

    name: str

    async def run(self, sessions: Sessions, run: JobRun) -> int: ...

    async def ahead(self, session: Session, now: datetime, end: datetime, tz: tzinfo) -> list[Firing]: ...


@dataclass(frozen=True)
class Scheduled:
    """A job that sends on a schedule: its name, when it falls due, and what it sends."""

    name: str
    when: When
    delivery: Delivery

    async def run(self, sessions: Sessions, run: JobRun) -> int:
        """Open and send every firing owed as of `run.now`, once; returns how many messages were enqueued."""
        async with sessions() as reader:
            owed = await still_owed(reader, self.name, self.when, run.now, run.tz)
        if not owed:
            return 0
        async with sessions() as session:
            await guard(session, run.fence)
            opened: dict[int, Occurrence] = {}
            for occ in owed:
                fid = await open_firing(session, job=self.name, period=occ.period, scope=occ.scope, due_at=occ.due,
                                        now=run.now, unit_id=occ.unit_id, fence_token=run.fence_token)
                if fid is not None:  # None: another worker fired it a moment ago
                    opened[fid] = occ
            if not opened:
                await session.rollback()
                return 0
            count, notes = await self.delivery.deliver(session, self.name, opened, run)
            await session.commit()
        for text in notes:
            run.note(self.name, text)
        return count

    async def ahead(self, session: Session, now: datetime, end: datetime, tz: tzinfo) -> list[Firing]:
        """What this job owes and will owe up to `end`."""
        return await self.when.ahead(session, self.name, now, end, tz)


async def _nothing_listed(session: Session, now: datetime, end: datetime, tz: tzinfo) -> list[Firing]:
    """List nothing: a routine whose timing the database does not tell ahead."""
    return []


@dataclass(frozen=True)
class Routine:
    """A job that moves state (escalation, auto-confirmation, no-shows) in one session, under the fence."""

    name: str
    step: Callable[[Session, datetime], Awaitable[int]]
    listed: Ahead = _nothing_listed

    async def run(self, sessions: Sessions, run: JobRun) -> int:
        """Run the step as of `run.now` and commit what it did, if this scheduler still leads."""
        async with sessions() as session:
            done = await self.step(session, run.now)
            if not done:
                await session.rollback()  # an idle tick writes nothing, not even the fence check
                return 0
            # Checked last, just before commit: on PostgreSQL the lease row stays locked until
            # then, so a new tenure cannot begin between this check and the commit.
            await guard(session, run.fence)
            await session.commit()
        run.note(self.name, f"{done} 项")
        return done

    async def ahead(self, session: Session, now: datetime, end: datetime, tz: tzinfo) -> list[Firing]:
        """What this routine will do up to `end`, as far as the database tells."""
        return await self.listed(session, now, end, tz)
