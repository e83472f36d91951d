"""Pairing and wish reminders (PRODUCT.md §5).

- Pairings (结对帮扶): on the 20th at 09:00 every volunteer with a household not yet visited
  this month is reminded, listing those households; on the last day of the month at 18:00
  the admins of each household's station (or, where a station has none, the nearest unit
  above with admins) get the list of pairings still unvisited.
- Wishes (微心愿) — §5 gives them no date, so this is our choice: every Monday at 09:00 a
  volunteer who claimed a wish more than 7 days ago and has not fulfilled it is reminded.

These are duties, so they go out whatever the volunteer's broadcast setting. Each is one
firing per period with the sent-log claiming each recipient once; after downtime the latest
one is still sent if it fell due within 3 days (its month's figures, not the current ones).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from handlers.programmes.reminders import pairing_reminder_text, pairing_report_text, wish_reminder_text
from scheduler.delivery import Mailing, Personal
from scheduler.fire import Scheduled
from scheduler.job import Fixed, JobRun, Occurrence
from storage.db import Session
from storage.programmes.pairings import month_bounds
from storage.scheduling.duties import (
    chasers_of, claimants_of_overdue_wishes, overdue_wishes, people_among, unit_names, unvisited_pairings,
    volunteers_with_unvisited,
)
from storage.scheduling.recurrence import Recurrence

REMIND_JOB, REPORT_JOB, WISH_JOB = "pairing_reminder", "pairing_report", "wish_reminder"
REMIND_AT = Recurrence(hour=9, day_of_month=20)
REPORT_AT = Recurrence(hour=18, day_of_month=31)  # the month's last day, however short
WISH_AT = Recurrence(hour=9, weekday=0)
WISH_OVERDUE = timedelta(days=7)
GRACE = timedelta(days=3)


async def _pairing_reminders(session: Session, occ: Occurrence, run: JobRun) -> Mailing:
    """Each paired volunteer's households not yet visited this month."""
    start, end = month_bounds(occ.due, run.tz)
    households: dict[int, list[str]] = defaultdict(list)
    for pairing in await unvisited_pairings(session, start, end, occ.due):
        households[pairing.volunteer_id].append(pairing.household)
    month = occ.due.astimezone(run.tz).month
    return Mailing(volunteers_with_unvisited(start, end, occ.due),
                   lambda pid: pairing_reminder_text(month, households[pid]))


async def _pairing_reports(session: Session, occ: Occurrence, run: JobRun) -> Mailing:
    """For each admin who chases stations, the pairings there with no visit this month."""
    start, end = month_bounds(occ.due, run.tz)
    by_station: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for pairing in await unvisited_pairings(session, start, end, occ.due):
        by_station[pairing.unit_id].append((pairing.household, pairing.volunteer_name))
    stations_of = await chasers_of(session, by_station)
    names = await unit_names(session, by_station)
    month = occ.due.astimezone(run.tz).month
    return Mailing(people_among(stations_of), lambda pid: pairing_report_text(
        month, [(names.get(s, str(s)), by_station[s]) for s in stations_of[pid]]))


async def _wish_reminders(session: Session, occ: Occurrence, run: JobRun) -> Mailing:
    """Each claimant's wishes claimed over a week before this Monday and not yet fulfilled."""
    wishes: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for wish in await overdue_wishes(session, occ.due - WISH_OVERDUE):
        wishes[wish.volunteer_id].append((wish.wish_id, wish.household, wish.description))
    return Mailing(claimants_of_overdue_wishes(occ.due - WISH_OVERDUE), lambda pid: wish_reminder_text(wishes[pid]))


PAIRING_REMINDER_JOB = Scheduled(REMIND_JOB, Fixed(REMIND_AT, GRACE), Personal(
    compose=_pairing_reminders, note=lambda n: f"{n} 位结对志愿者" if n else None))
PAIRING_REPORT_JOB = Scheduled(REPORT_JOB, Fixed(REPORT_AT, GRACE), Personal(
    compose=_pairing_reports, note=lambda n: f"{n} 位站长/管理员" if n else None))
WISH_REMINDER_JOB = Scheduled(WISH_JOB, Fixed(WISH_AT, GRACE), Personal(
    compose=_wish_reminders, note=lambda n: f"{n} 位认领人" if n else None))
