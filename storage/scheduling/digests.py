"""The figures of the captains' Monday digest and the admins' monthly report, and who gets them.

Each is read with a few GROUP BY queries over the whole network, once per firing; the texts
are written from them above (`handlers.datamap.reports`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from storage.db import Session
from storage.models import (
    HoursEntry,
    OrgUnit,
    RoleGrant,
    Task,
    TaskAssignment,
    TaskOffer,
    TaskStatus,
    Team,
    TeamMember,
)
from storage.models.activities import Activity, ActivitySignup
from storage.scheduling.fanout import PersonIds


@dataclass
class TeamWeek:
    """One team's figures for the captains' digest."""

    name: str
    members: int = 0
    open_task_ids: list[int] = field(default_factory=list)
    closed_last_week: int = 0
    hours_last_week: Decimal = Decimal(0)
    activities: list[tuple[int, str, datetime, int, int | None]] = field(default_factory=list)  # id, title, start, signed, cap


@dataclass
class UnitMonth:
    """One unit subtree's figures for the admins' monthly report."""

    name: str
    created: int = 0
    closed: int = 0
    still_open: int = 0
    hours: Decimal = Decimal(0)
    activities: int = 0


def captains() -> PersonIds:
    """Everyone who captains a team."""
    return select(RoleGrant.person_id).where(RoleGrant.role == "captain", RoleGrant.team_id.is_not(None)).distinct()


def admins() -> PersonIds:
    """Everyone who administers an org unit."""
    return select(RoleGrant.person_id).where(RoleGrant.role == "admin", RoleGrant.org_unit_id.is_not(None)).distinct()


async def captained_teams(session: Session) -> dict[int, list[int]]:
    """Each captain's teams, by team id."""
    teams_of: dict[int, list[int]] = defaultdict(list)
    for pid, tid in await session.execute(
        select(RoleGrant.person_id, RoleGrant.team_id)
        .where(RoleGrant.role == "captain", RoleGrant.team_id.is_not(None)).order_by(RoleGrant.team_id)
    ):
        teams_of[pid].append(tid)
    return teams_of


async def administered_units(session: Session) -> dict[int, list[int]]:
    """Each admin's units, by unit id."""
    units_of: dict[int, list[int]] = defaultdict(list)
    for pid, uid in await session.execute(
        select(RoleGrant.person_id, RoleGrant.org_unit_id)
        .where(RoleGrant.role == "admin", RoleGrant.org_unit_id.is_not(None)).order_by(RoleGrant.org_unit_id)
    ):
        units_of[pid].append(uid)
    return units_of


async def team_weeks(session: Session, monday: datetime) -> dict[int, TeamWeek]:
    """Every captained team's figures: members, open offers, the week before `monday`, the week from it."""
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


async def unit_months(session: Session, start: datetime, end: datetime) -> dict[int, UnitMonth]:
    """Each unit's figures for [start, end), each rolled up into every unit above it (by materialised path)."""
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
