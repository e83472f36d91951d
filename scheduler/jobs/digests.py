"""The captains' Monday digest (08:00) and the admins' monthly report (the 1st, 09:00).

Each is one firing per period: the sent-log claims every captain (or admin) once in SQL, the
figures are read with a few GROUP BY queries over the whole network, and each recipient's own
text is written to the outbox in one bulk insert. After downtime the latest digest or report
is still sent if it fell due within its grace (3 days, 7 days), once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.datamap.reports import TeamWeek, UnitMonth, admin_report_text, captain_digest_text
from scheduler.job import JobRun, open_fixed_firing
from storage.models.activities import Activity, ActivitySignup
from storage.scheduling.fanout import claim_people, claimed_people, enqueue_each, people_select, set_recipients
from storage.models import HoursEntry, OrgUnit, RoleGrant, Task, TaskAssignment, TaskOffer, TaskStatus, Team, TeamMember
from storage.scheduling.recurrence import Recurrence, period_of

DIGEST_JOB, REPORT_JOB = "captain_digest", "admin_report"
DIGEST_AT = Recurrence(hour=8, weekday=0)  # Monday 08:00
REPORT_AT = Recurrence(hour=9, day_of_month=1)  # the 1st, 09:00
DIGEST_GRACE = timedelta(days=3)
REPORT_GRACE = timedelta(days=7)


async def captain_digest_due(sessions: async_sessionmaker[AsyncSession], run: JobRun) -> int:
    """Send each captain this week's digest of their teams, once per week."""
    async with sessions() as session:
        opened = await open_fixed_firing(sessions, session, DIGEST_JOB, DIGEST_AT, DIGEST_GRACE, run)
        if opened is None:
            return 0
        fid, due = opened
        captains = select(RoleGrant.person_id).where(RoleGrant.role == "captain", RoleGrant.team_id.is_not(None))
        await claim_people(session, job=DIGEST_JOB, audience=people_select(captains.distinct(), fid), now=run.now,
                           opted_in_only=False, skip_reached_by_group=False)
        people = await claimed_people(session, DIGEST_JOB, fid)
        weeks = await _team_weeks(session, due)
        teams_of: dict[int, list[int]] = defaultdict(list)
        for pid, tid in await session.execute(
            select(RoleGrant.person_id, RoleGrant.team_id)
            .where(RoleGrant.role == "captain", RoleGrant.team_id.is_not(None)).order_by(RoleGrant.team_id)
        ):
            teams_of[pid].append(tid)
        monday = due.astimezone(run.tz).date()
        rows = [(pid, name, platform, address,
                 captain_digest_text(monday, [weeks[t] for t in teams_of[pid] if t in weeks], run.tz))
                for pid, name, platform, address in people]
        count = await enqueue_each(session, rows=rows, kind=DIGEST_JOB, ref=f"{DIGEST_JOB}:{period_of(due, run.tz)}",
                                   now=run.now)
        await set_recipients(session, fid, count)
        await session.commit()
    run.note(DIGEST_JOB, f"{count} 位队长")
    return count


async def _team_weeks(session: AsyncSession, monday: datetime) -> dict[int, TeamWeek]:
    captained = select(RoleGrant.team_id).where(RoleGrant.role == "captain")
    weeks = {tid: TeamWeek(name) for tid, name in await session.execute(
        select(Team.id, Team.name).where(Team.id.in_(captained)))}
    for tid, n in await session.execute(
        select(TeamMember.team_id, func.count()).where(TeamMember.team_id.in_(captained)).group_by(TeamMember.team_id)
    ):
        weeks[tid].members = int(n)
    for tid, task_id in await session.execute(
        select(TaskOffer.team_id, Task.id).join(Task, Task.id == TaskOffer.task_id)
        .where(Task.status == TaskStatus.dispatched.value, TaskOffer.team_id.in_(captained))
        .order_by(Task.id)
    ):
        weeks[tid].open_task_ids.append(int(task_id))
    last_week = (monday - timedelta(days=7), monday)
    for tid, n in await session.execute(
        select(TaskAssignment.team_id, func.count(func.distinct(Task.id)))
        .join(Task, Task.id == TaskAssignment.task_id)
        .where(Task.status == TaskStatus.closed.value, Task.closed_at >= last_week[0], Task.closed_at < last_week[1],
               TaskAssignment.active.is_(True), TaskAssignment.team_id.in_(captained))
        .group_by(TaskAssignment.team_id)
    ):
        weeks[tid].closed_last_week = int(n)
    for tid, hours in await session.execute(
        select(TaskAssignment.team_id, func.sum(HoursEntry.hours))
        .join(TaskAssignment, (HoursEntry.source_type == "task") & (TaskAssignment.task_id == HoursEntry.source_id)
              & (TaskAssignment.volunteer_id == HoursEntry.volunteer_id))
        .where(HoursEntry.credited_at >= last_week[0], HoursEntry.credited_at < last_week[1],
               TaskAssignment.team_id.in_(captained))
        .group_by(TaskAssignment.team_id)
    ):
        weeks[tid].hours_last_week = Decimal(hours or 0)
    signed = (select(func.count()).where(ActivitySignup.activity_id == Activity.id, ActivitySignup.status == "signed")
              .correlate(Activity).scalar_subquery())
    for tid, aid, title, start, cap, n in await session.execute(
        select(Activity.team_id, Activity.id, Activity.title, Activity.starts_at, Activity.capacity, signed)
        .where(Activity.status == "planned", Activity.starts_at >= monday,
               Activity.starts_at < monday + timedelta(days=7), Activity.team_id.in_(captained))
        .order_by(Activity.starts_at)
    ):
        weeks[tid].activities.append((aid, title, start, int(n), cap))
    return weeks


async def admin_report_due(sessions: async_sessionmaker[AsyncSession], run: JobRun) -> int:
    """Send each admin last month's report for every unit they administer, once per month."""
    async with sessions() as session:
        opened = await open_fixed_firing(sessions, session, REPORT_JOB, REPORT_AT, REPORT_GRACE, run)
        if opened is None:
            return 0
        fid, due = opened
        admins = select(RoleGrant.person_id).where(RoleGrant.role == "admin", RoleGrant.org_unit_id.is_not(None))
        await claim_people(session, job=REPORT_JOB, audience=people_select(admins.distinct(), fid), now=run.now,
                           opted_in_only=False, skip_reached_by_group=False)
        people = await claimed_people(session, REPORT_JOB, fid)
        first = due.astimezone(run.tz).replace(hour=0, minute=0)
        start = (first - timedelta(days=1)).replace(day=1)
        figures = await _unit_months(session, start, first)
        units_of: dict[int, list[int]] = defaultdict(list)
        for pid, uid in await session.execute(
            select(RoleGrant.person_id, RoleGrant.org_unit_id)
            .where(RoleGrant.role == "admin", RoleGrant.org_unit_id.is_not(None)).order_by(RoleGrant.org_unit_id)
        ):
            units_of[pid].append(uid)
        rows = [(pid, name, platform, address,
                 admin_report_text(start.date(), [figures[u] for u in units_of[pid] if u in figures]))
                for pid, name, platform, address in people]
        count = await enqueue_each(session, rows=rows, kind=REPORT_JOB, ref=f"{REPORT_JOB}:{period_of(due, run.tz)}",
                                   now=run.now)
        await set_recipients(session, fid, count)
        await session.commit()
    run.note(REPORT_JOB, f"{count} 位管理员")
    return count


async def _unit_months(session: AsyncSession, start: datetime, end: datetime) -> dict[int, UnitMonth]:
    """Last month's figures per unit, each rolled up into every unit above it (by materialised path)."""
    units = {uid: (name, path) for uid, name, path in await session.execute(
        select(OrgUnit.id, OrgUnit.name, OrgUnit.path))}
    totals = {uid: UnitMonth(name) for uid, (name, _) in units.items()}

    def add(unit_id: int, attr: str, value: object) -> None:
        path = units.get(unit_id, ("", f"/{unit_id}/"))[1]
        for part in path.strip("/").split("/"):
            if part and int(part) in totals:
                m = totals[int(part)]
                setattr(m, attr, getattr(m, attr) + value)

    open_states = (TaskStatus.submitted.value, TaskStatus.dispatched.value, TaskStatus.accepted.value)
    queries = {
        "created": select(Task.org_unit_id, func.count()).where(Task.created_at >= start, Task.created_at < end),
        "closed": select(Task.org_unit_id, func.count()).where(
            Task.status == TaskStatus.closed.value, Task.closed_at >= start, Task.closed_at < end),
        "still_open": select(Task.org_unit_id, func.count()).where(Task.status.in_(open_states)),
        "activities": select(Activity.org_unit_id, func.count()).where(
            Activity.starts_at >= start, Activity.starts_at < end, Activity.status != "cancelled"),
    }
    for attr, stmt in queries.items():
        for uid, n in await session.execute(stmt.group_by(stmt.selected_columns[0])):
            add(int(uid), attr, int(n))
    for uid, hours in await session.execute(
        select(Task.org_unit_id, func.sum(HoursEntry.hours))
        .join(Task, (HoursEntry.source_type == "task") & (HoursEntry.source_id == Task.id))
        .where(HoursEntry.credited_at >= start, HoursEntry.credited_at < end).group_by(Task.org_unit_id)
    ):
        add(int(uid), "hours", Decimal(hours or 0))
    return totals
