"""The shape of a scheduled job: a run's instant and fence, the firings a job owes, and when they fall due.

A job that sends something on a schedule is described, not written out: *when* it falls due
(a `When`: what it owes as of an instant, and what lies ahead for `xinfeng jobs list`), *what
it sends* (a delivery, `scheduler.delivery`), and its name. Each owed firing is an
`Occurrence` named by (period, scope) — with the job, the sent-log's key — so a firing that
exists was done, and a target claimed for a period is never claimed again. Nothing that fell
due before the installation first ran is owed (`storage.scheduling.installation`).
`scheduler.fire.Scheduled` runs every description the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol

from storage.db import Session
from storage.scheduling.firings import fired_scopes
from storage.scheduling.installation import first_run
from storage.scheduling.leases import Fence, check_fence
from storage.scheduling.recurrence import Recurrence, period_of
from storage.messaging.retention import DEFAULT_DAYS as DEFAULT_RETENTION_DAYS

NETWORK = "all"  # the scope of a firing for the whole network


@dataclass
class JobRun:
    """Everything a job needs to know about the run it is part of."""

    now: datetime
    tz: tzinfo
    # None: single-process mode or `xinfeng jobs run` — the sent-log alone prevents repeats.
    fence: Fence | None = None
    # How old a finished delivery row must be before the prune job deletes it (XINFENG_RETENTION_DAYS).
    retention_days: int = DEFAULT_RETENTION_DAYS
    notes: list[tuple[str, str]] = field(default_factory=list)

    def note(self, job: str, text: str) -> None:
        """Record what a job did, for `xinfeng jobs run` to print."""
        self.notes.append((job, text))

    @property
    def fence_token(self) -> int | None:
        """The token a firing records as written under (None without a lease)."""
        return self.fence.token if self.fence else None


async def guard(session: Session, fence: Fence | None) -> None:
    """Check the fencing token in a transaction that writes what the scheduler owes."""
    if fence is not None:
        await check_fence(session, fence)


@dataclass(frozen=True)
class Occurrence:
    """One firing a job owes: its (period, scope) key, when it fell due, and what it is about."""

    period: str
    scope: str
    due: datetime
    unit_id: int | None = None
    # The org units a regional firing covers: its team groups and volunteers are found through them.
    units: tuple[int, ...] = ()
    # What the job's text and note are about (a region, an activity and its stage); None for the network.
    subject: Any = None


@dataclass(frozen=True)
class Firing:
    """One upcoming (or overdue and still owed) firing, as `xinfeng jobs list` shows it."""

    at: datetime
    job: str
    what: str
    overdue: bool = False


class When(Protocol):
    """When a job falls due: the firings it owes as of an instant, and those ahead of it."""

    async def owed(self, session: Session, now: datetime, tz: tzinfo) -> list[Occurrence]:
        """Every firing due as of `now` that is still worth sending (fired or not)."""
        ...

    async def ahead(self, session: Session, job: str, now: datetime, end: datetime, tz: tzinfo) -> list[Firing]:
        """What is owed and not yet fired, then every firing in (now, end]."""
        ...


async def still_owed(session: Session, job: str, when: When, now: datetime, tz: tzinfo) -> list[Occurrence]:
    """The firings a job owes as of `now` that nobody has fired yet, none from before the installation ran.

    A new installation owes nothing for periods before it existed: no report of last month,
    no digest of last week. Before the first run is recorded (`xinfeng jobs list` on a fresh
    database) the first run is taken to be `now`.
    """
    since = await first_run(session) or now
    owed = [o for o in await when.owed(session, now, tz) if o.due >= since]
    done = await fired_scopes(session, job, [o.period for o in owed])
    return [o for o in owed if (o.period, o.scope) not in done]


@dataclass(frozen=True)
class Fixed:
    """A network-wide job at a fixed time: its latest occurrence is owed for `grace` after it falls due.

    So after downtime the latest one is still sent once (with its own period's figures), and
    older ones are not.
    """

    at: Recurrence
    grace: timedelta

    async def owed(self, session: Session, now: datetime, tz: tzinfo) -> list[Occurrence]:
        """The latest occurrence, if it fell due no more than `grace` ago."""
        due = self.at.latest_due(now, tz)
        return [] if now - due > self.grace else [Occurrence(period_of(due, tz), NETWORK, due)]

    async def ahead(self, session: Session, job: str, now: datetime, end: datetime, tz: tzinfo) -> list[Firing]:
        """The owed occurrence if not yet fired, then every one up to `end`."""
        found = [Firing(o.due, job, "全网", overdue=True) for o in await still_owed(session, job, self, now, tz)]
        found.extend(Firing(at, job, "全网") for at in self.at.between(now, end, tz))
        return found
