"""Activity reminders (PRODUCT.md §4): 24 hours and 1 hour before, to everyone signed up.

Which reminder is owed follows from the clock: from 24 h before the start the "24h" one, from
1 h before the "1h" one, until the activity starts. After downtime only the current stage is
sent — missed the 24-hour mark and now it is 40 minutes before? One reminder, the 1-hour one —
and nothing is sent for an activity that has begun. A reminder goes to those signed up before
it fell due (a volunteer who signs up 5 hours before needs no "tomorrow" reminder), whatever
their DM setting, since it is about their own sign-up. The period names the start time, so a
rescheduled activity is reminded again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.datamap.reports import activity_reminder_text
from scheduler.job import JobRun, guard
from storage.models.activities import Activity, ActivitySignup
from storage.scheduling.fanout import claim_people, enqueue_claimed, open_firing, people_select
from storage.models import Team
from storage.scheduling.rules import fired_scopes

JOB = "activity_reminder"
STAGES = (("1h", timedelta(hours=1)), ("24h", timedelta(hours=24)))


def stage_at(starts_at: datetime, now: datetime) -> tuple[str, datetime] | None:
    """The reminder stage owed now for an activity starting at `starts_at`, and when it fell due."""
    if now >= starts_at:
        return None
    for name, before in STAGES:
        if starts_at - now <= before:
            return name, starts_at - before
    return None


def period_for(activity_id: int, starts_at: datetime, stage: str) -> str:
    """The sent-log period of one reminder: activity, start (UTC) and stage."""
    return f"{activity_id}@{starts_at.strftime('%Y%m%d%H%M')}:{stage}"


async def activity_reminders_due(sessions: async_sessionmaker[AsyncSession], run: JobRun) -> int:
    """Enqueue every owed activity reminder; returns how many messages were enqueued."""
    now = run.now
    async with sessions() as session:
        rows = (await session.execute(
            select(Activity.id, Activity.title, Activity.place, Activity.starts_at, Activity.org_unit_id, Team.name)
            .join(Team, Team.id == Activity.team_id)
            .where(Activity.status == "planned", Activity.starts_at > now,
                   Activity.starts_at <= now + STAGES[-1][1])
            .order_by(Activity.starts_at, Activity.id)
        )).all()
        owed = []
        for activity in rows:
            found = stage_at(activity.starts_at, now)
            if found is not None:
                owed.append((activity, found[0], found[1], period_for(activity.id, activity.starts_at, found[0])))
        done = await fired_scopes(session, JOB, [o[3] for o in owed])
    owed = [o for o in owed if (o[3], "all") not in done]
    if not owed:
        return 0
    async with sessions() as session:
        await guard(session, run.fence)
        ids = []
        for activity, stage, due, period in owed:
            text = activity_reminder_text(activity.id, activity.title, activity.place, activity.starts_at,
                                          activity.name, stage, now, run.tz)
            fid = await open_firing(session, job=JOB, period=period, scope="all", due_at=due, now=now,
                                    unit_id=activity.org_unit_id, text=text,
                                    fence_token=run.fence.token if run.fence else None)
            if fid is None:
                continue
            signed = select(ActivitySignup.volunteer_id).where(
                ActivitySignup.activity_id == activity.id, ActivitySignup.status == "signed",
                ActivitySignup.signed_at < due)
            claimed = await claim_people(session, job=JOB, audience=people_select(signed, fid), now=now,
                                         opted_in_only=False, skip_reached_by_group=False)
            ids.append(fid)
            if claimed:
                run.note(JOB, f"#{activity.id}「{activity.title}」{stage} 提醒 {claimed} 人")
        count = await enqueue_claimed(session, job=JOB, firing_ids=ids, kind=JOB, now=now) if ids else 0
        await session.commit()
    return count
