"""The captains' Monday digest (08:00) and the admins' monthly report (the 1st, 09:00).

Each is one firing per period: the sent-log claims every captain (or admin) once in SQL, the
figures are read with a few GROUP BY queries over the whole network, and each recipient's own
text is written to the outbox in one bulk insert. After downtime the latest digest or report
is still sent if it fell due within its grace (3 days, 7 days), once.
"""

from __future__ import annotations

from datetime import timedelta

from handlers.datamap.reports import admin_report_text, captain_digest_text
from scheduler.delivery import Mailing, Personal
from scheduler.fire import Scheduled
from scheduler.job import Fixed, JobRun, Occurrence
from storage.db import Session
from storage.scheduling.digests import administered_units, admins, captained_teams, captains, team_weeks, unit_months
from storage.scheduling.recurrence import Recurrence

DIGEST_JOB, REPORT_JOB = "captain_digest", "admin_report"
DIGEST_AT = Recurrence(hour=8, weekday=0)  # Monday 08:00
REPORT_AT = Recurrence(hour=9, day_of_month=1)  # the 1st, 09:00
DIGEST_GRACE = timedelta(days=3)
REPORT_GRACE = timedelta(days=7)


async def _digests(session: Session, occ: Occurrence, run: JobRun) -> Mailing:
    """Each captain's digest of their teams: last week's work and this week's activities."""
    weeks = await team_weeks(session, occ.due)
    teams_of = await captained_teams(session)
    monday = occ.due.astimezone(run.tz).date()
    return Mailing(captains(), lambda pid: captain_digest_text(
        monday, [weeks[t] for t in teams_of.get(pid, []) if t in weeks], run.tz))


async def _reports(session: Session, occ: Occurrence, run: JobRun) -> Mailing:
    """Each admin's report of last month, for every unit they administer."""
    first = occ.due.astimezone(run.tz).replace(hour=0, minute=0)
    start = (first - timedelta(days=1)).replace(day=1)
    figures = await unit_months(session, start, first)
    units_of = await administered_units(session)
    return Mailing(admins(), lambda pid: admin_report_text(
        start.date(), [figures[u] for u in units_of.get(pid, []) if u in figures]))


CAPTAIN_DIGEST_JOB = Scheduled(DIGEST_JOB, Fixed(DIGEST_AT, DIGEST_GRACE),
                               Personal(compose=_digests, note=lambda n: f"{n} 位队长"))
ADMIN_REPORT_JOB = Scheduled(REPORT_JOB, Fixed(REPORT_AT, REPORT_GRACE),
                             Personal(compose=_reports, note=lambda n: f"{n} 位管理员"))
