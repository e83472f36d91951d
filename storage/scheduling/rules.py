"""Recurring rules per org unit (PRODUCT.md §6): setting them, and resolving who they cover.

A rule set at a unit covers its whole subtree unless a lower unit has a rule of its own
(which may switch the job off there). Resolution splits what a rule covers into regions —
each county center under the rule's unit, or the rule's unit itself below county level — so
that a province-wide moral activity day still lists each county's own activities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OrgUnit
from storage.models.scheduling import ScheduleRule
from storage.scheduling.recurrence import Recurrence
from storage.sql import path_ids, rowcount

MORAL_DAY = "moral_day"


def recurrence_of(rule: ScheduleRule) -> Recurrence:
    """The recurrence a rule row describes."""
    return Recurrence(hour=rule.hour, minute=rule.minute, day_of_month=rule.day_of_month,
                      week_of_month=rule.week_of_month, weekday=rule.weekday)


async def own_rule(session: AsyncSession, unit_id: int, job: str) -> ScheduleRule | None:
    """The rule set at this very unit for a job (not one inherited from above), or None."""
    return (await session.execute(
        select(ScheduleRule).where(ScheduleRule.org_unit_id == unit_id, ScheduleRule.job == job)
    )).scalar_one_or_none()


async def set_rule(
    *,
    session: AsyncSession,
    unit_id: int,
    job: str,
    recurrence: Recurrence | None,
    now: datetime,
    by_person_id: int | None = None,
) -> ScheduleRule:
    """Set (or, with None, switch off) a job's rule at a unit; occurrences from `now` on are owed."""
    rule = await own_rule(session, unit_id, job)
    if rule is None:
        rule = ScheduleRule(org_unit_id=unit_id, job=job, hour=8, minute=0)
        session.add(rule)
    rule.enabled = recurrence is not None
    if recurrence is not None:
        rule.day_of_month, rule.week_of_month = recurrence.day_of_month, recurrence.week_of_month
        rule.weekday, rule.hour, rule.minute = recurrence.weekday, recurrence.hour, recurrence.minute
    rule.effective_from = now
    rule.updated_at = now
    rule.updated_by_id = by_person_id
    await session.flush()
    return rule


async def clear_rule(*, session: AsyncSession, unit_id: int, job: str) -> bool:
    """Remove a unit's own rule, so it follows the unit above again; False if it had none."""
    result = await session.execute(
        delete(ScheduleRule).where(ScheduleRule.org_unit_id == unit_id, ScheduleRule.job == job)
    )
    return rowcount(result) > 0


async def list_rules(session: AsyncSession, job: str | None = None) -> list[tuple[ScheduleRule, OrgUnit]]:
    """Every rule with its unit, by job and then by position in the tree."""
    stmt = select(ScheduleRule, OrgUnit).join(OrgUnit, OrgUnit.id == ScheduleRule.org_unit_id)
    if job is not None:
        stmt = stmt.where(ScheduleRule.job == job)
    stmt = stmt.order_by(ScheduleRule.job, OrgUnit.path)
    return [(r, u) for r, u in (await session.execute(stmt)).all()]


async def effective_rule(session: AsyncSession, unit: OrgUnit, job: str) -> tuple[ScheduleRule, OrgUnit] | None:
    """The rule that governs a unit: its own, else the nearest one above it (None if none)."""
    ids = path_ids(unit.path) or [unit.id]
    rows = (await session.execute(
        select(ScheduleRule, OrgUnit).join(OrgUnit, OrgUnit.id == ScheduleRule.org_unit_id)
        .where(ScheduleRule.job == job, ScheduleRule.org_unit_id.in_(ids))
    )).all()
    by_unit = {u.id: (r, u) for r, u in rows}
    for unit_id in reversed(ids):
        if unit_id in by_unit:
            return by_unit[unit_id]
    return None


@dataclass
class Region:
    """Part of the network one rule covers, messaged as one: a county, or a lower unit's subtree."""

    rule: ScheduleRule
    owner: OrgUnit  # the unit the rule is set at
    unit: OrgUnit  # the region's own root
    unit_ids: list[int] = field(default_factory=list)

    @property
    def scope(self) -> str:
        """The scope key of the region's firings."""
        return f"unit:{self.unit.id}"


async def resolve_regions(session: AsyncSession, job: str) -> list[Region]:
    """Split every enabled rule of a job into regions, each with the units it covers.

    The tree is small (a province has a few thousand units), so it is resolved in memory;
    people are never loaded here.
    """
    rules = {r.org_unit_id: r for r in (await session.execute(
        select(ScheduleRule).where(ScheduleRule.job == job))).scalars()}
    if not rules:
        return []
    units = sorted((await session.execute(select(OrgUnit))).scalars(), key=lambda u: len(u.path))
    by_id = {u.id: u for u in units}
    governing: dict[int, ScheduleRule | None] = {}
    region_of: dict[int, int] = {}
    regions: dict[int, Region] = {}
    # Parents come before children: a child's path extends its parent's.
    for unit in units:
        parent = unit.parent_id
        own = rules.get(unit.id)
        rule = own if own is not None else governing.get(parent) if parent is not None else None
        governing[unit.id] = rule
        if rule is None or not rule.enabled:
            continue
        if own is not None or unit.level == "center" or parent not in region_of:
            region_of[unit.id] = unit.id
        else:
            region_of[unit.id] = region_of[parent]
        root = region_of[unit.id]
        if root not in regions:
            regions[root] = Region(rule=rule, owner=by_id[rule.org_unit_id], unit=by_id[root])
        regions[root].unit_ids.append(unit.id)
    return sorted(regions.values(), key=lambda r: r.unit.path)
