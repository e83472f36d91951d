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

from datetime import datetime, timedelta, tzinfo

from handlers.activities.reminders import activity_reminder_text
from scheduler.delivery import Broadcast, Opened
from scheduler.fire import Scheduled
from scheduler.job import NETWORK, Firing, JobRun, Occurrence
from storage.db import Session
from storage.scheduling.fanout import Audience, people_select
from storage.scheduling.outlook import planned_with_signups
from storage.scheduling.reminders import StartingActivity, planned_starting, signed_up_before

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


class ReminderStages:
    """Each planned activity's current reminder stage, owed until the activity starts."""

    async def owed(self, session: Session, now: datetime, tz: tzinfo) -> list[Occurrence]:
        """The stage owed now for every activity starting within the longest stage."""
        owed = []
        for activity in await planned_starting(session, now, now + STAGES[-1][1]):
            found = stage_at(activity.starts_at, now)
            if found is not None:
                stage, due = found
                owed.append(Occurrence(period_for(activity.id, activity.starts_at, stage), NETWORK, due,
                                       unit_id=activity.org_unit_id, subject=(activity, stage)))
        return owed

    async def ahead(self, session: Session, job: str, now: datetime, end: datetime, tz: tzinfo) -> list[Firing]:
        """Every stage still ahead for the activities starting up to `end`."""
        found = []
        for aid, title, start, signed in await planned_with_signups(session, now, end):
            for stage, before in STAGES:
                if start - before > now:
                    found.append(Firing(start - before, job, f"#{aid}「{title}」{stage}，{signed} 人已报名"))
        return found


def _about(occ: Occurrence) -> tuple[StartingActivity, str]:
    """The activity a reminder is about, and its stage."""
    activity, stage = occ.subject
    return activity, stage


async def _texts(session: Session, opened: Opened, run: JobRun) -> dict[int, str]:
    """Each reminder's text, from the activity it is about."""
    texts = {}
    for fid, occ in opened.items():
        a, stage = _about(occ)
        texts[fid] = activity_reminder_text(a.id, a.title, a.place, a.starts_at, a.team_name, stage, run.now, run.tz)
    return texts


def _audiences(opened: Opened) -> list[Audience]:
    """Each reminder's sign-ups from before it fell due."""
    return [people_select(signed_up_before(_about(occ)[0].id, occ.due), fid) for fid, occ in opened.items()]


def _note(occ: Occurrence, groups: int, people: int) -> str | None:
    """Name the activity and stage of a reminder that reached anyone."""
    a, stage = _about(occ)
    return f"#{a.id}「{a.title}」{stage} 提醒 {people} 人" if people else None


ACTIVITY_REMINDER_JOB = Scheduled(JOB, ReminderStages(), Broadcast(texts=_texts, audiences=_audiences, note=_note))
