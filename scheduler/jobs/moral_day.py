"""The moral activity day: each region's message, group-first, exactly once per day (PRODUCT.md §6).

For every region a rule covers, the occurrence due most recently is owed if it fell due
after the rule was set and no more than `GRACE` ago — so after a restart what fell due while
the bot was down goes out once, late (marked 补发), and a rule set today does not send last
month's. One transaction per run opens each owed region's firing, then fans out in SQL:
first every bound team group, then every opted-in volunteer of the region whom no group of
their teams reached (one message in a group reaches the whole team; no duplicate DM).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from handlers.activities.moral_day import PlannedActivity, moral_day_text
from scheduler.delivery import Broadcast, Opened
from scheduler.fire import Scheduled
from scheduler.job import Firing, JobRun, Occurrence, still_owed
from storage.db import Session
from storage.scheduling.fanout import Audience, region_audience
from storage.scheduling.moral_day import planned_in_firings
from storage.scheduling.recurrence import period_of
from storage.scheduling.rules import MORAL_DAY, recurrence_of, resolve_regions

GRACE = timedelta(days=4)
LATE_AFTER = timedelta(hours=2)


class RegionalDays:
    """Each region's latest moral day, owed from when its rule was set and for `GRACE` after."""

    async def owed(self, session: Session, now: datetime, tz: tzinfo) -> list[Occurrence]:
        """Every region whose latest day fell due within the grace and after its rule was set."""
        owed = []
        for region in await resolve_regions(session, MORAL_DAY):
            due = recurrence_of(region.rule).latest_due(now, tz)
            if due < region.rule.effective_from or now - due > GRACE:
                continue
            owed.append(Occurrence(period_of(due, tz), region.scope, due, unit_id=region.unit.id,
                                   units=tuple(region.unit_ids), subject=region))
        return owed

    async def ahead(self, session: Session, job: str, now: datetime, end: datetime, tz: tzinfo) -> list[Firing]:
        """Regions still owed their day (to be sent late), then each region's days up to `end`."""
        found = [Firing(o.due, job, f"{o.subject.unit.name}（逾期未发，下一次运行时补发）", overdue=True)
                 for o in await still_owed(session, job, self, now, tz)]
        for region in await resolve_regions(session, MORAL_DAY):
            rec = recurrence_of(region.rule)
            found.extend(Firing(at, job, f"{region.unit.name}（{rec.describe()}，规则设在{region.owner.name}）")
                         for at in rec.between(now, end, tz))
        return found


async def _texts(session: Session, opened: Opened, run: JobRun) -> dict[int, str]:
    """Each region's message, with that day's planned activities read in one query for all regions."""
    days = {fid: occ.due.astimezone(run.tz).replace(hour=0, minute=0) for fid, occ in opened.items()}
    listed: dict[int, list[PlannedActivity]] = {fid: [] for fid in opened}
    for a in await planned_in_firings(session, list(opened), min(days.values()),
                                      max(days.values()) + timedelta(days=1)):
        if days[a.firing_id] <= a.starts_at < days[a.firing_id] + timedelta(days=1):
            listed[a.firing_id].append(PlannedActivity(a.activity_id, a.title, a.starts_at, a.place, a.team_name))
    return {fid: moral_day_text(occ.subject.unit.name, days[fid].date(), listed[fid], run.tz,
                                late=run.now - occ.due > LATE_AFTER)
            for fid, occ in opened.items()}


def _audiences(opened: Opened) -> list[Audience]:
    """The volunteers of every opened region, in one audience."""
    return [region_audience(list(opened))]


def _note(occ: Occurrence, groups: int, people: int) -> str:
    """Say how many groups and volunteers a region's day reached."""
    return f"{occ.subject.unit.name}：{groups} 个队伍群，{people} 位志愿者"


MORAL_DAY_JOB = Scheduled(MORAL_DAY, RegionalDays(), Broadcast(
    texts=_texts, audiences=_audiences, note=_note, groups_first=True, opted_in_only=True))
