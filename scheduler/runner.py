"""Every job the scheduler runs, and running them: each "do what is due and not yet done", safe to repeat.

A job reads what is owed from the database as of an instant and writes what it does in
transactions that check the leader's fencing token, so a scheduler that lost its lease cannot
write a thing. `run_due` runs them all; `xinfeng jobs run --now` does too. A new scheduled
message is a new `Scheduled` description (see `scheduler/jobs/`), listed here.
"""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from handlers.activities.attendance import mark_no_shows_due
from scheduler.fire import Job, Routine
from scheduler.job import JobRun
from scheduler.jobs.digests import ADMIN_REPORT_JOB, CAPTAIN_DIGEST_JOB
from scheduler.jobs.intake import NIGHTLY_RETRAIN_JOB
from scheduler.jobs.moral_day import MORAL_DAY_JOB
from scheduler.jobs.pairings import PAIRING_REMINDER_JOB, PAIRING_REPORT_JOB, WISH_REMINDER_JOB
from scheduler.jobs.reminders import ACTIVITY_REMINDER_JOB
from scheduler.jobs.retention import PRUNE_JOB
from scheduler.jobs.tasks import AUTO_CONFIRM_JOB, ESCALATE_JOB
from storage.datamap.recount import fold_deltas
from storage.db import Session, Sessions
from storage.scheduling.installation import record_first_run
from storage.scheduling.leases import Fence, FencedOut
from storage.messaging.retention import DEFAULT_DAYS as DEFAULT_RETENTION_DAYS

log = logging.getLogger(__name__)

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


async def _fold_stats(session: Session, now: datetime) -> int:
    """Fold PostgreSQL's data-map deltas into their counters (a no-op on SQLite): keeps reads short."""
    return await fold_deltas(session)


JOBS: dict[str, Job] = {job.name: job for job in (
    ESCALATE_JOB,
    AUTO_CONFIRM_JOB,
    MORAL_DAY_JOB,
    ACTIVITY_REMINDER_JOB,
    # Start + 30 min without a check-in: a no-show, and the captains are told (PRODUCT.md §4).
    Routine("no_show", mark_no_shows_due),
    CAPTAIN_DIGEST_JOB,
    ADMIN_REPORT_JOB,
    PAIRING_REMINDER_JOB,
    PAIRING_REPORT_JOB,
    WISH_REMINDER_JOB,
    Routine("stats_fold", _fold_stats),
    NIGHTLY_RETRAIN_JOB,  # the intake learns from the day's confirmed requests (03:00)
    PRUNE_JOB,  # sent-log, handled inbox, delivered outbox older than the retention age, in batches
)}


async def run_jobs(sessions: Sessions, run: JobRun, only: list[str] | None = None) -> dict[str, int]:
    """Run every job (or the named ones) as of `run.now`; returns what each did, -1 for a failure.

    A stale fencing token stops the whole run: this scheduler is no longer the leader. The
    first run of all records its instant as the installation's first run, before any job
    reads what it owes.
    """
    async with sessions() as session:
        await record_first_run(session, run.now)
        await session.commit()
    done: dict[str, int] = {}
    for name, job in JOBS.items():
        if only is not None and name not in only:
            continue
        try:
            done[name] = await job.run(sessions, run)
        except FencedOut:
            raise
        except Exception:  # one failing job must not stop the others
            log.exception("job %s failed", name)
            done[name] = -1
    return done


async def run_due(
    sessions: Sessions,
    now: datetime,
    *,
    tz: tzinfo = DEFAULT_TZ,
    fence: Fence | None = None,
    retention_days: int = DEFAULT_RETENTION_DAYS) -> dict[str, int]:
    """Run every job as of `now`, each in its own transaction(s); returns what each did."""
    return await run_jobs(sessions, JobRun(now=now, tz=tz, fence=fence, retention_days=retention_days))
