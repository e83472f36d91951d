"""What the activity reminders read: planned activities about to start, and who signed up for each in time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.db import Session
from storage.models import Team
from storage.models.activities import Activity, ActivitySignup
from storage.scheduling.fanout import PersonIds


@dataclass(frozen=True)
class StartingActivity:
    """A planned activity as its reminder names it."""

    id: int
    title: str
    place: str | None
    starts_at: datetime
    org_unit_id: int
    team_name: str


async def planned_starting(session: Session, after: datetime, until: datetime) -> list[StartingActivity]:
    """Planned activities starting in (after, until], soonest first."""
    rows = await session.execute(
        select(Activity.id, Activity.title, Activity.place, Activity.starts_at, Activity.org_unit_id, Team.name)
        .join(Team, Team.id == Activity.team_id)
        .where(Activity.status == "planned", Activity.starts_at > after, Activity.starts_at <= until)
        .order_by(Activity.starts_at, Activity.id)
    )
    return [StartingActivity(int(aid), title, place, starts_at, int(unit_id), team)
            for aid, title, place, starts_at, unit_id, team in rows]


def signed_up_before(activity_id: int, before: datetime) -> PersonIds:
    """The volunteers signed up for an activity before an instant (a reminder's audience)."""
    return select(ActivitySignup.volunteer_id).where(
        ActivitySignup.activity_id == activity_id, ActivitySignup.status == "signed",
        ActivitySignup.signed_at < before)
