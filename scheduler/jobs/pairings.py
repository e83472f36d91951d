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
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.datamap.reports import pairing_report_text, pairing_reminder_text, wish_reminder_text
from scheduler.job import JobRun, open_fixed_firing
from storage.scheduling.fanout import claim_people, claimed_people, enqueue_each, people_select, set_recipients
from storage.models import OrgUnit, Person, RoleGrant
from storage.models.pairings import Pairing, PairingVisit
from storage.programmes.pairings import month_bounds
from storage.scheduling.recurrence import Recurrence, period_of
from storage.models.wishes import Wish, WishStatus

REMIND_JOB, REPORT_JOB, WISH_JOB = "pairing_reminder", "pairing_report", "wish_reminder"
REMIND_AT = Recurrence(hour=9, day_of_month=20)
REPORT_AT = Recurrence(hour=18, day_of_month=31)  # the month's last day, however short
WISH_AT = Recurrence(hour=9, weekday=0)
WISH_OVERDUE = timedelta(days=7)
GRACE = timedelta(days=3)


def _unvisited(start: datetime, end: datetime, created_before: datetime) -> object:
    visited = exists().where(PairingVisit.pairing_id == Pairing.id, PairingVisit.visited_at >= start,
                             PairingVisit.visited_at < end)
    return (select(Pairing.id, Pairing.volunteer_id, Pairing.org_unit_id, Pairing.household_name)
            .where(Pairing.active.is_(True), Pairing.created_at < created_before, ~visited)
            .order_by(Pairing.volunteer_id, Pairing.id))


async def pairing_reminders_due(sessions: async_sessionmaker[AsyncSession], run: JobRun) -> int:
    """On the 20th: remind each volunteer of the households they have not visited this month."""
    async with sessions() as session:
        opened = await open_fixed_firing(sessions, session, REMIND_JOB, REMIND_AT, GRACE, run)
        if opened is None:
            return 0
        fid, due = opened
        start, end = month_bounds(due, run.tz)
        missed = _unvisited(start, end, due).subquery()
        await claim_people(session, job=REMIND_JOB, audience=people_select(select(missed.c.volunteer_id).distinct(), fid),
                           now=run.now, opted_in_only=False, skip_reached_by_group=False)
        households: dict[int, list[str]] = defaultdict(list)
        for _, vid, _, name in await session.execute(_unvisited(start, end, due)):
            households[vid].append(name)
        month = due.astimezone(run.tz)
        rows = [(pid, name, platform, address, pairing_reminder_text(month.month, households[pid]))
                for pid, name, platform, address in await claimed_people(session, REMIND_JOB, fid)]
        count = await enqueue_each(session, rows=rows, kind=REMIND_JOB, ref=f"{REMIND_JOB}:{period_of(due, run.tz)}",
                                   now=run.now)
        await set_recipients(session, fid, count)
        await session.commit()
    if count:
        run.note(REMIND_JOB, f"{count} 位结对志愿者")
    return count


async def pairing_reports_due(sessions: async_sessionmaker[AsyncSession], run: JobRun) -> int:
    """On the month's last day: tell station admins which pairings had no visit this month."""
    async with sessions() as session:
        opened = await open_fixed_firing(sessions, session, REPORT_JOB, REPORT_AT, GRACE, run)
        if opened is None:
            return 0
        fid, due = opened
        start, end = month_bounds(due, run.tz)
        missed = (await session.execute(
            _unvisited(start, end, due).add_columns(Person.name).join(Person, Person.id == Pairing.volunteer_id)
        )).all()
        by_station: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for _, _, unit_id, household, volunteer in missed:
            by_station[unit_id].append((household, volunteer))
        admins_at: dict[int, list[int]] = defaultdict(list)
        for pid, uid in await session.execute(
            select(RoleGrant.person_id, RoleGrant.org_unit_id).where(RoleGrant.role == "admin",
                                                                     RoleGrant.org_unit_id.is_not(None))
        ):
            admins_at[uid].append(pid)
        units = {u.id: u for u in (await session.execute(select(OrgUnit))).scalars()}
        stations_of: dict[int, list[int]] = defaultdict(list)
        for station_id in by_station:
            path = units[station_id].path if station_id in units else f"/{station_id}/"
            for uid in reversed([int(p) for p in path.strip("/").split("/") if p]):
                if admins_at.get(uid):
                    for admin in admins_at[uid]:
                        stations_of[admin].append(station_id)
                    break
        await claim_people(session, job=REPORT_JOB, audience=people_select(
            select(Person.id).where(Person.id.in_(sorted(stations_of))), fid), now=run.now,
            opted_in_only=False, skip_reached_by_group=False)
        month = due.astimezone(run.tz).month
        rows = [(pid, name, platform, address, pairing_report_text(
                    month, [(units[s].name if s in units else str(s), by_station[s]) for s in stations_of[pid]]))
                for pid, name, platform, address in await claimed_people(session, REPORT_JOB, fid)]
        count = await enqueue_each(session, rows=rows, kind=REPORT_JOB, ref=f"{REPORT_JOB}:{period_of(due, run.tz)}",
                                   now=run.now)
        await set_recipients(session, fid, count)
        await session.commit()
    if count:
        run.note(REPORT_JOB, f"{count} 位站长/管理员")
    return count


async def wish_reminders_due(sessions: async_sessionmaker[AsyncSession], run: JobRun) -> int:
    """Mondays: remind volunteers of wishes they claimed over a week ago and have not fulfilled."""
    async with sessions() as session:
        opened = await open_fixed_firing(sessions, session, WISH_JOB, WISH_AT, GRACE, run)
        if opened is None:
            return 0
        fid, due = opened
        overdue = select(Wish.id, Wish.claimed_by_id, Wish.household, Wish.description).where(
            Wish.status == WishStatus.claimed.value, Wish.claimed_at <= due - WISH_OVERDUE)
        claimants = overdue.subquery()
        await claim_people(session, job=WISH_JOB, audience=people_select(select(claimants.c.claimed_by_id).distinct(), fid),
                           now=run.now, opted_in_only=False, skip_reached_by_group=False)
        wishes: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        for wid, vid, household, description in await session.execute(overdue.order_by(Wish.id)):
            wishes[vid].append((wid, household, description))
        rows = [(pid, name, platform, address, wish_reminder_text(wishes[pid]))
                for pid, name, platform, address in await claimed_people(session, WISH_JOB, fid)]
        count = await enqueue_each(session, rows=rows, kind=WISH_JOB, ref=f"{WISH_JOB}:{period_of(due, run.tz)}",
                                   now=run.now)
        await set_recipients(session, fid, count)
        await session.commit()
    if count:
        run.note(WISH_JOB, f"{count} 位认领人")
    return count
