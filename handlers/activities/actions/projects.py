"""Projects and what activities achieved: 项目 <名称> (admins) and 受益 #3 30人 (captains).

A project belongs to the broadest unit its admin runs; an activity's captain (or an admin
over its team) records how many people it served, which the project's figures add up.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from handlers.core.act import Act, Refused, domain_action
from handlers.core.rights import admin_units, may_lead
from storage.activities import projects as project_rows
from storage.activities.activities import record_beneficiaries as store_beneficiaries
from storage.db import load
from storage.models import OrgUnit, Team
from storage.models.activities import Activity, Project

MAX_NAME = 50
MAX_SERVED = 1_000_000


class Problem(enum.Enum):
    """Why an otherwise allowed change was not made."""

    bad_name = "bad_name"  # too long, or with ":" or "#" that commands use as separators
    exists = "exists"  # the unit has a project of that name already
    out_of_range = "out_of_range"  # a beneficiary count below 0 or beyond belief


@dataclass(frozen=True)
class ProjectOutcome:
    """A project created in `unit` (or the problem, with the unit it concerns)."""

    unit: OrgUnit | None
    project: Project | None = None
    problem: Problem | None = None


@domain_action("project_create")
async def create_project(act: Act, *, name: str) -> ProjectOutcome | Refused:
    """Create a project in the broadest unit the actor administers."""
    scopes = sorted(await admin_units(act), key=lambda u: len(u.path))
    if not scopes:
        return act.refuse("project_create", "只有中心、所、站的管理员可以新建项目。")
    if len(name) > MAX_NAME or any(c in name for c in ":：#"):
        return ProjectOutcome(None, problem=Problem.bad_name)
    unit = scopes[0]
    created = await project_rows.create_project(session=act.session, org_unit_id=unit.id, name=name, now=act.now,
                                                created_by_id=act.actor_id)
    if created is None:
        return ProjectOutcome(unit, problem=Problem.exists)
    act.audit("project_create", "project", created.id, org_unit_id=unit.id)
    return ProjectOutcome(unit, created)


@domain_action("record_beneficiaries")
async def record_beneficiaries(act: Act, *, activity: Activity, count: int) -> int | Problem | Refused:
    """Record how many people an activity served; the count, once recorded."""
    team: Team | None = await load(act.session, Team, activity.team_id)
    if team is None or not await may_lead(act, team):
        return act.refuse("record_beneficiaries", "只有本队队长或管理员可以记录受益人数。", "activity", activity.id)
    if not 0 <= count <= MAX_SERVED:
        return Problem.out_of_range
    await store_beneficiaries(session=act.session, activity_id=activity.id, count=count)
    act.audit("record_beneficiaries", "activity", activity.id, count=count)
    return count
