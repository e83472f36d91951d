"""Rows for spreadsheet exports of a region: hours, tasks, volunteers, activities — streamed, phones masked by rule.

Each export is an async generator of plain rows (strings and numbers) under Chinese headers,
read with `session.stream` so a province's year of hours never sits in memory at once. The
volunteers export carries the roster's own headers (单位编码, 队伍编码 …): edited, it imports back.
Dates are the region's (Beijing) calendar days, `date_from` to `date_to` inclusive.
Who sees which phone number is decided by the caller (`PhoneRule`); here it is only applied.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.datamap.rules import OFFSET_HOURS
from storage.datamap.served import served_unit
from storage.models import (
    HoursEntry,
    OrgUnit,
    Person,
    Task,
    TaskAssignment,
    Team,
    TeamMember,
)
from storage.models.activities import Activity, ActivitySignup, Project
from storage.people.network import in_subtree

LOCAL = timezone(timedelta(hours=OFFSET_HOURS))
KINDS = ("hours", "tasks", "volunteers", "activities")
STATUS_ZH = {"submitted": "待派单", "dispatched": "待接单", "accepted": "已接单", "completed": "待评价",
             "closed": "已完成", "cancelled": "已取消", "planned": "计划中", "finished": "已结束"}
HEADERS = {
    "hours": ["日期", "志愿者", "手机号", "所属单位", "服务单位", "来源", "时长（小时）"],
    "tasks": ["任务号", "下单时间", "村/社区", "类别", "状态", "居民", "联系电话", "内容", "接单志愿者", "接单时间",
              "完成时间", "时长（小时）", "评分", "评价"],
    # The roster's own headers (storage.roster.columns) first, so an edited export imports back:
    # 单位编码 and 队伍编码 are what the import reads; 所属单位 and 队伍 (names) are for people.
    "volunteers": ["姓名", "手机号", "单位编码", "所属单位", "队伍编码", "队伍", "技能", "是否党员", "登记时间",
                   "期间服务次数", "期间时长（小时）"],
    "activities": ["活动号", "活动", "队伍", "单位", "项目", "开始", "结束", "状态", "名额", "报名", "签到",
                   "核定时长（小时）", "受益人数"],
}
CHUNK = 2000
_MOBILE = re.compile(r"(1[3-9]\d)\d{4}(\d{4})")


def mask(phone: str | None) -> str:
    """138****5678: enough to recognise, not enough to call."""
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


@dataclass(frozen=True)
class PhoneRule:
    """Which phone numbers an export shows in full; every other one is masked.

    `everything`: the operator at the command line. `home_scopes`: org-unit paths; a person
    whose home unit lies inside one is shown. `task_contacts`: a task's contact phone (admins
    over the task may see it, docs/roles.md). A volunteer who allows sharing is always shown.
    """

    everything: bool = False
    home_scopes: tuple[str, ...] = ()
    task_contacts: bool = False

    def person(self, phone: str | None, home_path: str | None, shares: bool = False) -> str:
        """A person's own number."""
        if not phone:
            return ""
        if self.everything or shares or (home_path and any(home_path.startswith(p) for p in self.home_scopes)):
            return phone
        return mask(phone)

    def contact(self, phone: str | None) -> str:
        """A task's contact number."""
        if not phone:
            return ""
        return phone if self.everything or self.task_contacts else mask(phone)

    def request_text(self, text: str, phone: str | None) -> str:
        """A task's description, with any phone number in it masked unless contacts are shown."""
        if self.everything or self.task_contacts:
            return text
        text = _MOBILE.sub(r"\1****\2", text)
        return text.replace(phone, mask(phone)) if phone else text


def bounds(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """The UTC instants [start of `date_from`, end of `date_to`) in Beijing time."""
    start = datetime.combine(date_from, time.min, LOCAL)
    end = datetime.combine(date_to + timedelta(days=1), time.min, LOCAL)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def local_text(at: datetime | None) -> str:
    """An instant as Beijing wall-clock time, "2026-11-28 09:00"."""
    return at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if at is not None else ""


def _hours(value: Any) -> float:
    return float(Decimal(value or 0).quantize(Decimal("0.01")))


async def _stream(session: AsyncSession, stmt: Select[Any]) -> AsyncIterator[Any]:
    result = await session.stream(stmt.execution_options(yield_per=CHUNK))
    async for row in result:
        yield row


async def hours_rows(session: AsyncSession, unit: OrgUnit, start: datetime, end: datetime,
                     phones: PhoneRule) -> AsyncIterator[list[Any]]:
    """Ledger lines credited in the period to service in the region (where it happened)."""
    served_at = aliased(OrgUnit)
    home = aliased(OrgUnit)
    signup_activity = aliased(Activity)
    where = served_unit()
    title = (select(signup_activity.title).join(ActivitySignup, ActivitySignup.activity_id == signup_activity.id)
             .where(ActivitySignup.id == HoursEntry.source_id).scalar_subquery())
    stmt = (
        select(HoursEntry.credited_at, Person.name, Person.phone, Person.share_phone, home.name, home.path,
               served_at.name, HoursEntry.source_type, HoursEntry.source_id, title, HoursEntry.hours)
        .join(Person, Person.id == HoursEntry.volunteer_id)
        .outerjoin(home, home.id == Person.org_unit_id)
        .join(served_at, served_at.id == where)
        .where(in_subtree(served_at.path, unit.path), HoursEntry.credited_at >= start, HoursEntry.credited_at < end)
        .order_by(HoursEntry.credited_at, HoursEntry.id)
    )
    async for at, name, phone, shares, home_name, home_path, served, source, source_id, activity, hours in _stream(
            session, stmt):
        origin = {"task": f"任务 #{source_id}", "activity_signup": f"活动：{activity or ''}",
                  "hours_correction": f"时长更正 #{source_id}"}.get(source, source)
        yield [local_text(at), name, phones.person(phone, home_path, shares), home_name or "", served, origin,
               _hours(hours)]


async def tasks_rows(session: AsyncSession, unit: OrgUnit, start: datetime, end: datetime,
                     phones: PhoneRule) -> AsyncIterator[list[Any]]:
    """Tasks ordered in the period in the region's villages, with who took them."""
    resident = aliased(Person)
    taker = aliased(Person)
    takers = (select(func.aggregate_strings(taker.name, "、"))
              .join(TaskAssignment, TaskAssignment.volunteer_id == taker.id)
              .where(TaskAssignment.task_id == Task.id, TaskAssignment.active.is_(True)).scalar_subquery())
    stmt = (
        select(Task, OrgUnit.name, resident.name, resident.phone, takers)
        .join(OrgUnit, OrgUnit.id == Task.org_unit_id).join(resident, resident.id == Task.resident_id)
        .where(in_subtree(OrgUnit.path, unit.path), Task.created_at >= start, Task.created_at < end)
        .order_by(Task.id)
    )
    async for task, station, who, who_phone, names in _stream(session, stmt):
        yield [task.id, local_text(task.created_at), station, task.category, STATUS_ZH.get(task.status, task.status),
               who, phones.contact(task.phone or who_phone), phones.request_text(task.description, task.phone),
               names or "",
               local_text(task.accepted_at), local_text(task.completed_at),
               _hours(task.hours) if task.hours is not None else "", task.rating or "", task.comment or ""]


def _volunteers_statement(unit: OrgUnit, start: datetime, end: datetime) -> Select[Any]:
    # A correction changes the hours of a service already counted: it adds hours, not a service.
    services = func.count(case((HoursEntry.source_type == "hours_correction", None), else_=HoursEntry.id))
    served = (select(HoursEntry.volunteer_id, services.label("n"), func.sum(HoursEntry.hours).label("h"))
              .where(HoursEntry.credited_at >= start, HoursEntry.credited_at < end)
              .group_by(HoursEntry.volunteer_id).subquery())
    team_codes = (select(func.aggregate_strings(Team.code, "|")).join(TeamMember, TeamMember.team_id == Team.id)
                  .where(TeamMember.person_id == Person.id).scalar_subquery())
    team_names = (select(func.aggregate_strings(Team.name, "、")).join(TeamMember, TeamMember.team_id == Team.id)
                  .where(TeamMember.person_id == Person.id).scalar_subquery())
    # Plain columns, not Person objects: a province's 1.2 million rows cost no ORM identity map.
    return (
        select(Person.name, Person.phone, Person.share_phone, OrgUnit.code, OrgUnit.name, OrgUnit.path,
               team_codes, team_names, Person.skills, Person.party_member, Person.created_at, served.c.n, served.c.h)
        .join(OrgUnit, OrgUnit.id == Person.org_unit_id).outerjoin(served, served.c.volunteer_id == Person.id)
        .where(in_subtree(OrgUnit.path, unit.path), Person.is_volunteer.is_(True))
        .order_by(OrgUnit.path, Person.id)
    )


async def volunteers_rows(session: AsyncSession, unit: OrgUnit, start: datetime, end: datetime,
                          phones: PhoneRule) -> AsyncIterator[list[Any]]:
    """The region's volunteers (by home unit), with their services and hours in the period."""
    async for (name, phone, shares, code, home, home_path, codes, teams, skills, party, created, n,
               hours) in _stream(session, _volunteers_statement(unit, start, end)):
        yield [name, phones.person(phone, home_path, shares), code, home, codes or "", teams or "",
               "、".join(s for s in (skills or "").split("|") if s), "是" if party else "否",
               local_text(created), int(n or 0), _hours(hours)]


async def activities_rows(session: AsyncSession, unit: OrgUnit, start: datetime, end: datetime,
                          phones: PhoneRule) -> AsyncIterator[list[Any]]:
    """Activities starting in the period in the region, with sign-ups, check-ins and verified hours."""
    signups = (select(ActivitySignup.activity_id,
                      func.sum(case((ActivitySignup.status == "signed", 1), else_=0)).label("signed"),
                      func.sum(case((ActivitySignup.checkin_at.is_not(None), 1), else_=0)).label("checked"),
                      func.sum(case((ActivitySignup.verified.is_(True), ActivitySignup.hours), else_=0)).label("h"))
               .group_by(ActivitySignup.activity_id).subquery())
    stmt = (
        select(Activity, Team.name, OrgUnit.name, Project.name, signups.c.signed, signups.c.checked, signups.c.h)
        .join(Team, Team.id == Activity.team_id).join(OrgUnit, OrgUnit.id == Activity.org_unit_id)
        .outerjoin(Project, Project.id == Activity.project_id)
        .outerjoin(signups, signups.c.activity_id == Activity.id)
        .where(in_subtree(OrgUnit.path, unit.path), Activity.starts_at >= start, Activity.starts_at < end)
        .order_by(Activity.starts_at, Activity.id)
    )
    async for activity, team, where, project, signed, checked, hours in _stream(session, stmt):
        yield [activity.id, activity.title, team, where, project or "", local_text(activity.starts_at),
               local_text(activity.ends_at), STATUS_ZH.get(activity.status, activity.status),
               activity.capacity or "不限", int(signed or 0), int(checked or 0), _hours(hours),
               activity.beneficiaries or 0]


ROWS = {"hours": hours_rows, "tasks": tasks_rows, "volunteers": volunteers_rows, "activities": activities_rows}


async def export_size(session: AsyncSession, kind: str, unit: OrgUnit, date_from: date, date_to: date) -> int | None:
    """How many rows an export will have (for a progress bar), or None when not cheap to say."""
    start, end = bounds(date_from, date_to)
    if kind == "volunteers":
        stmt = (select(func.count()).select_from(Person).join(OrgUnit, OrgUnit.id == Person.org_unit_id)
                .where(in_subtree(OrgUnit.path, unit.path), Person.is_volunteer.is_(True)))
    elif kind == "tasks":
        stmt = (select(func.count()).select_from(Task).join(OrgUnit, OrgUnit.id == Task.org_unit_id)
                .where(in_subtree(OrgUnit.path, unit.path), Task.created_at >= start, Task.created_at < end))
    elif kind == "activities":
        stmt = (select(func.count()).select_from(Activity).join(OrgUnit, OrgUnit.id == Activity.org_unit_id)
                .where(in_subtree(OrgUnit.path, unit.path), Activity.starts_at >= start, Activity.starts_at < end))
    else:
        return None  # hours are placed by where each was earned: counting costs the export twice
    return int((await session.execute(stmt)).scalar_one())


def export_rows(session: AsyncSession, kind: str, unit: OrgUnit, date_from: date, date_to: date,
                phones: PhoneRule) -> AsyncIterator[list[Any]]:
    """The rows of one export (headers: `HEADERS[kind]`)."""
    if kind not in ROWS:
        raise ValueError(f"unknown export {kind!r}; one of {', '.join(KINDS)}")
    start, end = bounds(date_from, date_to)
    return ROWS[kind](session, unit, start, end, phones)
