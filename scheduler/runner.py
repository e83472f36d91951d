"""Jobs: each "send what is due and not yet sent", safe to run any number of times, on any worker.

A job reads what is owed from the database as of an instant and writes what it sends in
transactions that first check the leader's fencing token, so a scheduler that lost its
lease cannot write a thing. `run_due` runs them all; `xinfeng jobs run --now` does too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.tasks.confirmations import auto_confirm_due
from handlers.tasks.dispatch import escalate_due
from scheduler.jobs.digests import admin_report_due, captain_digest_due
from scheduler.jobs.moral_day import moral_day_due
from scheduler.jobs.pairings import pairing_reminders_due, pairing_reports_due, wish_reminders_due
from scheduler.jobs.reminders import activity_reminders_due
from scheduler.job import JobRun, guard
from storage.scheduling.leases import Fence, FencedOut
from storage.datamap.recount import fold_deltas

log = logging.getLogger(__name__)

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")

Job = Callable[[async_sessionmaker[AsyncSession], JobRun], Awaitable[int]]
StateJob = Callable[[AsyncSession, datetime], Awaitable[int]]


def in_one_transaction(name: str, fn: StateJob) -> Job:
    """Wrap a job that works in one session (escalation, auto-confirm) in a fenced transaction."""

    async def job(sessions: async_sessionmaker[AsyncSession], run: JobRun) -> int:
        async with sessions() as session:
            done = await fn(session, run.now)
            if not done:
                await session.rollback()  # an idle tick writes nothing, not even the fence check
                return 0
            # Checked last, just before commit: on PostgreSQL the lease row stays locked until
            # then, so a new tenure cannot begin between this check and the commit.
            await guard(session, run.fence)
            await session.commit()
        run.note(name, f"{done} 项")
        return done

    return job


JOBS: dict[str, Job] = {
    "escalate": in_one_transaction("escalate", escalate_due),
    "auto_confirm": in_one_transaction("auto_confirm", auto_confirm_due),
    "moral_day": moral_day_due,
    "activity_reminder": activity_reminders_due,
    "captain_digest": captain_digest_due,
    "admin_report": admin_report_due,
    "pairing_reminder": pairing_reminders_due,
    "pairing_report": pairing_reports_due,
    "wish_reminder": wish_reminders_due,
    # PostgreSQL's data-map deltas into their counters (a no-op on SQLite): keeps reads short.
    "stats_fold": in_one_transaction("stats_fold", lambda session, _now: fold_deltas(session)),
}


async def run_jobs(sessions: async_sessionmaker[AsyncSession], run: JobRun,
                   only: list[str] | None = None) -> dict[str, int]:
    """Run every job (or the named ones) as of `run.now`; returns what each did, -1 for a failure.

    A stale fencing token stops the whole run: this scheduler is no longer the leader.
    """
    done: dict[str, int] = {}
    for name, job in JOBS.items():
        if only is not None and name not in only:
            continue
        try:
            done[name] = await job(sessions, run)
        except FencedOut:
            raise
        except Exception:  # one failing job must not stop the others
            log.exception("job %s failed", name)
            done[name] = -1
    return done


async def run_due(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    tz: tzinfo = DEFAULT_TZ,
    fence: Fence | None = None,
) -> dict[str, int]:
    """Run every job as of `now`, each in its own transaction(s); returns what each did."""
    return await run_jobs(sessions, JobRun(now=now, tz=tz, fence=fence))
