"""Figures for any org unit's subtree (数据地图), overall and per month — read from the maintained aggregates.

`figures` reads one unit's counter rows (a few hundred, whatever the subtree's size) and turns
them into a `Figures`; `children_figures` does the same for a unit's children in one query.
`figures_naive` computes the same figures straight from the source tables with hand-written
joins — the benchmark's baseline, and an independent check in the tests.

Definitions are those of `storage.datamap.rules`; in short: "active volunteers" are people whose
home unit is in the subtree and who accepted a task, logged a pairing visit or had hours
credited on one of the last 30 Beijing-time days (today included). Median time to accept is
the lower median over the histogram buckets (exact to the minute under two hours).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal_column, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datamap.recount import read_counters
from storage.datamap.rules import OFFSET_HOURS, accept_bucket, local_period
from storage.datamap.served import served_unit
from storage.models import HoursEntry, OrgUnit, Person, Task, TaskAssignment, Team
from storage.models.activities import Activity, Project
from storage.models.pairings import Pairing, PairingVisit
from storage.models.wishes import Wish
from storage.people.network import in_subtree

TASK_STATUSES = ("submitted", "dispatched", "accepted", "completed", "closed", "cancelled")
ACTIVE_DAYS = 30
LOCAL = timezone(timedelta(hours=OFFSET_HOURS))


@dataclass
class MonthFigures:
    """What happened in one Beijing-time month."""

    month: str
    tasks: int = 0
    hours: Decimal = Decimal(0)
    activities: int = 0
    volunteers_new: int = 0
    projects_new: int = 0
    beneficiaries: int = 0
    wishes: int = 0
    pairing_visits: int = 0
    median_accept_minutes: int | None = None


@dataclass
class Figures:
    """A unit's subtree in numbers; `units` counts the units below it, by level."""

    unit_id: int
    code: str
    name: str
    level: str
    units: dict[str, int] = field(default_factory=dict)
    teams: int = 0
    volunteers: int = 0
    active_volunteers: int = 0
    projects: int = 0
    activities_by_status: dict[str, int] = field(default_factory=dict)
    tasks_by_status: dict[str, int] = field(default_factory=dict)
    median_accept_minutes: int | None = None
    hours: Decimal = Decimal(0)
    beneficiaries: int = 0
    wishes_by_status: dict[str, int] = field(default_factory=dict)
    pairings: int = 0
    pairing_visits: int = 0
    months: list[MonthFigures] = field(default_factory=list)

    @property
    def tasks(self) -> int:
        """Tasks ever ordered in the subtree."""
        return sum(self.tasks_by_status.values())

    @property
    def activities(self) -> int:
        """Activities not cancelled."""
        return sum(v for k, v in self.activities_by_status.items() if k != "cancelled")

    @property
    def wishes(self) -> int:
        """Wishes ever submitted."""
        return sum(self.wishes_by_status.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (hours as a number)."""
        data = asdict(self)
        data["hours"] = float(self.hours)
        for m in data["months"]:
            m["hours"] = float(m["hours"])
        data.update(tasks=self.tasks, activities=self.activities, wishes=self.wishes)
        return data


def local_today(now: datetime) -> date:
    """Today's Beijing-time date."""
    return now.astimezone(LOCAL).date()


def month_window(now: datetime, months: int) -> list[str]:
    """The last `months` Beijing-time months up to this one, oldest first ("2026-11")."""
    today = local_today(now)
    y, m = today.year, today.month
    out = []
    for _ in range(months):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def active_cutoff(now: datetime) -> date:
    """The first day of the 30-day window ending today."""
    return local_today(now) - timedelta(days=ACTIVE_DAYS - 1)


def lower_median(histogram: dict[int, int]) -> int | None:
    """The lower median of values given as {value: count}."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = (total - 1) // 2
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen > rank:
            return value
    return None


def _from_counters(unit: OrgUnit, rows: dict[tuple[str, str], int], now: datetime, months: int) -> Figures:
    fig = Figures(unit.id, unit.code, unit.name, unit.level)
    window = month_window(now, months)
    by_month = {m: MonthFigures(m) for m in window}
    cutoff = active_cutoff(now).isoformat()
    accept: dict[int, int] = {}
    accept_month: dict[str, dict[int, int]] = {}
    for (metric, period), value in rows.items():
        kind, _, key = metric.partition(".")
        mf = by_month.get(period)
        if kind == "units":
            fig.units[key] = fig.units.get(key, 0) + value
        elif kind == "teams":
            fig.teams += value
        elif kind == "volunteers":
            fig.volunteers += value
            if mf:
                mf.volunteers_new += value
        elif kind == "active":
            if period >= cutoff:
                fig.active_volunteers += value
        elif kind == "projects":
            fig.projects += value
            if mf:
                mf.projects_new += value
        elif kind == "activities":
            fig.activities_by_status[key] = fig.activities_by_status.get(key, 0) + value
            if mf and key != "cancelled":
                mf.activities += value
        elif kind == "tasks":
            fig.tasks_by_status[key] = fig.tasks_by_status.get(key, 0) + value
            if mf:
                mf.tasks += value
        elif kind == "accept_min":
            bucket = int(key)
            accept[bucket] = accept.get(bucket, 0) + value
            if mf:
                hist = accept_month.setdefault(period, {})
                hist[bucket] = hist.get(bucket, 0) + value
        elif kind == "hours_c":
            fig.hours += Decimal(value) / 100
            if mf:
                mf.hours += Decimal(value) / 100
        elif kind == "beneficiaries":
            fig.beneficiaries += value
            if mf:
                mf.beneficiaries += value
        elif kind == "wishes":
            fig.wishes_by_status[key] = fig.wishes_by_status.get(key, 0) + value
            if mf:
                mf.wishes += value
        elif kind == "pairings":
            fig.pairings += value
        elif kind == "pairing_visits":
            fig.pairing_visits += value
            if mf:
                mf.pairing_visits += value
    # A unit's own row counts itself; "units below" leaves it out.
    fig.units[unit.level] = fig.units.get(unit.level, 0) - 1
    fig.units = {k: v for k, v in fig.units.items() if v}
    fig.median_accept_minutes = lower_median(accept)
    for period, hist in accept_month.items():
        by_month[period].median_accept_minutes = lower_median(hist)
    fig.months = [by_month[m] for m in window]
    return fig


async def figures(session: AsyncSession, unit: OrgUnit, now: datetime, months: int = 12) -> Figures:
    """The figures of a unit's subtree from the maintained aggregates."""
    rows = (await read_counters(session, [unit.id], since=month_window(now, months)[0],
                                active_from=active_cutoff(now).isoformat()))[unit.id]
    return _from_counters(unit, rows, now, months)


async def child_units(session: AsyncSession, unit: OrgUnit) -> list[OrgUnit]:
    """A unit's children, ordered by code."""
    return list((await session.execute(
        select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.code))).scalars().all())


async def children_figures(session: AsyncSession, unit: OrgUnit, now: datetime, months: int = 12,
                           children: list[OrgUnit] | None = None) -> list[Figures]:
    """The figures of each child of a unit (ordered by code), in one read; no time-to-accept medians."""
    if children is None:
        children = await child_units(session, unit)
    rows = await read_counters(session, [c.id for c in children], since=month_window(now, months)[0],
                               active_from=active_cutoff(now).isoformat(), histograms=False)
    return [_from_counters(c, rows[c.id], now, months) for c in children]


# --------------------------------------------------------------------- the naive recount


def _month_of(at: datetime | None) -> str:
    return at.astimezone(LOCAL).strftime("%Y-%m") if at is not None else ""


def _minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() + 0.5) // 60


async def figures_naive(session: AsyncSession, unit: OrgUnit, now: datetime, months: int = 12) -> Figures:
    """The same figures computed from the source tables, without the aggregates (slow at scale)."""
    s = session
    dialect = s.bind.dialect.name if s.bind is not None else "sqlite"
    inside = in_subtree(OrgUnit.path, unit.path)
    fig = Figures(unit.id, unit.code, unit.name, unit.level)
    window = month_window(now, months)
    by_month = {m: MonthFigures(m) for m in window}

    def month_col(column: Any) -> Any:
        compiled = column.compile(dialect=s.bind.dialect if s.bind is not None else None)
        return literal_column(local_period(dialect, str(compiled), "month"))

    fig.units = {lv: n for lv, n in (await s.execute(
        select(OrgUnit.level, func.count()).where(inside, OrgUnit.id != unit.id).group_by(OrgUnit.level)))}
    fig.teams = (await s.execute(select(func.count()).select_from(Team)
                                 .join(OrgUnit, OrgUnit.id == Team.org_unit_id).where(inside))).scalar_one()
    for month, n in await s.execute(
            select(month_col(Person.created_at), func.count()).select_from(Person)
            .join(OrgUnit, OrgUnit.id == Person.org_unit_id)
            .where(inside, Person.is_volunteer.is_(True)).group_by(month_col(Person.created_at))):
        fig.volunteers += n
        if month in by_month:
            by_month[month].volunteers_new += n
    cut = datetime.combine(active_cutoff(now), datetime.min.time(), LOCAL).astimezone(timezone.utc)
    served = union(
        select(HoursEntry.volunteer_id.label("pid")).where(HoursEntry.credited_at >= cut),
        select(TaskAssignment.volunteer_id).where(TaskAssignment.accepted_at >= cut),
        select(Pairing.volunteer_id).join(PairingVisit, PairingVisit.pairing_id == Pairing.id)
        .where(PairingVisit.visited_at >= cut),
    ).subquery()
    fig.active_volunteers = (await s.execute(
        select(func.count(func.distinct(served.c.pid))).join(Person, Person.id == served.c.pid)
        .join(OrgUnit, OrgUnit.id == Person.org_unit_id).where(inside))).scalar_one()
    for month, n in await s.execute(
            select(month_col(Project.created_at), func.count()).select_from(Project)
            .join(OrgUnit, OrgUnit.id == Project.org_unit_id).where(inside).group_by(month_col(Project.created_at))):
        fig.projects += n
        if month in by_month:
            by_month[month].projects_new += n
    for status, month, n, ben in await s.execute(
            select(Activity.status, month_col(Activity.starts_at), func.count(), func.sum(Activity.beneficiaries))
            .join(OrgUnit, OrgUnit.id == Activity.org_unit_id).where(inside)
            .group_by(Activity.status, month_col(Activity.starts_at))):
        fig.activities_by_status[status] = fig.activities_by_status.get(status, 0) + n
        if status != "cancelled":
            fig.beneficiaries += int(ben or 0)
            if month in by_month:
                by_month[month].activities += n
                by_month[month].beneficiaries += int(ben or 0)
    accept: dict[int, int] = {}
    accept_month: dict[str, dict[int, int]] = {}
    tasks = select(Task.status, Task.created_at, Task.accepted_at, Task.closed_at).join(
        OrgUnit, OrgUnit.id == Task.org_unit_id).where(inside)
    for status, created, accepted, closed in await s.execute(tasks):
        fig.tasks_by_status[status] = fig.tasks_by_status.get(status, 0) + 1
        month = _month_of(created)
        if month in by_month:
            by_month[month].tasks += 1
        if accepted is not None and accepted >= created:
            bucket = accept_bucket(_minutes(created, accepted))
            accept[bucket] = accept.get(bucket, 0) + 1
            accept_month.setdefault(month, {}).setdefault(bucket, 0)
            accept_month[month][bucket] += 1
        if status == "closed":
            fig.beneficiaries += 1
            if _month_of(closed) in by_month:
                by_month[_month_of(closed)].beneficiaries += 1
    fig.median_accept_minutes = lower_median(accept)
    for month, hist in accept_month.items():
        if month in by_month:
            by_month[month].median_accept_minutes = lower_median(hist)
    where_served = served_unit()
    for month, centi in await s.execute(
            select(month_col(HoursEntry.credited_at), func.sum(func.round(HoursEntry.hours * 100)))
            .select_from(HoursEntry).join(OrgUnit, OrgUnit.id == where_served).where(inside)
            .group_by(month_col(HoursEntry.credited_at))):
        amount = Decimal(int(centi or 0)) / 100
        fig.hours += amount
        if month in by_month:
            by_month[month].hours += amount
    for status, created, confirmed in await s.execute(
            select(Wish.status, Wish.created_at, Wish.confirmed_at).join(OrgUnit, OrgUnit.id == Wish.org_unit_id)
            .where(inside)):
        fig.wishes_by_status[status] = fig.wishes_by_status.get(status, 0) + 1
        if _month_of(created) in by_month:
            by_month[_month_of(created)].wishes += 1
        if status == "confirmed":
            fig.beneficiaries += 1
            if _month_of(confirmed) in by_month:
                by_month[_month_of(confirmed)].beneficiaries += 1
    fig.pairings = (await s.execute(select(func.count()).select_from(Pairing).join(
        OrgUnit, OrgUnit.id == Pairing.org_unit_id).where(inside, Pairing.active.is_(True)))).scalar_one()
    for month, n in await s.execute(
            select(month_col(PairingVisit.visited_at), func.count()).select_from(PairingVisit)
            .join(Pairing, Pairing.id == PairingVisit.pairing_id).join(OrgUnit, OrgUnit.id == Pairing.org_unit_id)
            .where(inside).group_by(month_col(PairingVisit.visited_at))):
        fig.pairing_visits += n
        if month in by_month:
            by_month[month].pairing_visits += n
    fig.months = [by_month[m] for m in window]
    return fig
