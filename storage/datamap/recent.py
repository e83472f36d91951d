"""The latest tasks and activities of a subtree, for the dashboard's "what is happening" lists.

No contact details: the dashboard shows what and where, never who to call.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datamap.exports import STATUS_ZH, local_text
from storage.models import OrgUnit, Task, Team
from storage.models.activities import Activity, ActivitySignup
from storage.people.network import in_subtree


async def latest_tasks(session: AsyncSession, unit: OrgUnit, limit: int = 10) -> list[dict[str, Any]]:
    """The newest tasks ordered in the subtree."""
    rows = await session.execute(
        select(Task.id, Task.created_at, OrgUnit.name, Task.category, Task.status, Task.urgent)
        .join(OrgUnit, OrgUnit.id == Task.org_unit_id).where(in_subtree(OrgUnit.path, unit.path))
        .order_by(Task.id.desc()).limit(limit))
    return [{"id": i, "created": local_text(at), "unit": where, "category": cat,
             "status": STATUS_ZH.get(status, status), "urgent": bool(urgent)}
            for i, at, where, cat, status, urgent in rows]


async def latest_activities(session: AsyncSession, unit: OrgUnit, limit: int = 10) -> list[dict[str, Any]]:
    """The activities of the subtree starting latest (planned ones first in time order at the top)."""
    signed = (select(func.count()).where(ActivitySignup.activity_id == Activity.id, ActivitySignup.status == "signed")
              .scalar_subquery())
    rows = await session.execute(
        select(Activity.id, Activity.title, Team.name, OrgUnit.name, Activity.starts_at, Activity.status,
               Activity.capacity, signed)
        .join(Team, Team.id == Activity.team_id).join(OrgUnit, OrgUnit.id == Activity.org_unit_id)
        .where(in_subtree(OrgUnit.path, unit.path)).order_by(Activity.starts_at.desc(), Activity.id.desc())
        .limit(limit))
    return [{"id": i, "title": title, "team": team, "unit": where, "starts": local_text(at),
             "status": STATUS_ZH.get(status, status), "capacity": capacity, "signed": int(n or 0)}
            for i, title, team, where, at, status, capacity, n in rows]
