"""What the moral activity day's message lists: each region's planned activities on its day.

The regions themselves come from `storage.scheduling.rules.resolve_regions`, and who is
reached from `storage.scheduling.fanout.region_audience`; both read the org units a firing
covers (`schedule_firing_units`), as this query does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.db import Session
from storage.models import Team
from storage.models.activities import Activity
from storage.models.scheduling import ScheduleFiringUnit


@dataclass(frozen=True)
class PlannedInFiring:
    """A planned activity inside the units a firing covers."""

    firing_id: int
    activity_id: int
    title: str
    starts_at: datetime
    place: str | None
    team_name: str


async def planned_in_firings(
    session: Session, firing_ids: list[int], start: datetime, end: datetime
) -> list[PlannedInFiring]:
    """Planned activities starting in [start, end) in the firings' units, by start time.

    One query for every region of a run.
    """
    if not firing_ids:
        return []
    stmt = (
        select(ScheduleFiringUnit.firing_id, Activity.id, Activity.title, Activity.starts_at, Activity.place, Team.name)
        .join(Team, Team.id == Activity.team_id)
        .join(ScheduleFiringUnit, ScheduleFiringUnit.unit_id == Activity.org_unit_id)
        .where(ScheduleFiringUnit.firing_id.in_(firing_ids), Activity.status == "planned",
               Activity.starts_at >= start, Activity.starts_at < end)
        .order_by(Activity.starts_at, Activity.id)
    )
    return [PlannedInFiring(int(fid), int(aid), title, starts_at, place, team)
            for fid, aid, title, starts_at, place, team in await session.execute(stmt)]
