"""What the scheduler will do next (`xinfeng jobs list`): upcoming firings, read from the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.tasks.confirmations import CONFIRM_AFTER
from scheduler.jobs import digests, moral_day, pairings, reminders
from storage.models.activities import Activity, ActivitySignup
from storage.models import Task, TaskStatus
from storage.scheduling.recurrence import period_of
from storage.scheduling.rules import MORAL_DAY, fired_scopes, recurrence_of, resolve_regions


# The jobs that run at a fixed time for the whole network: (job, when, grace).
FIXED = (
    (digests.DIGEST_JOB, digests.DIGEST_AT, digests.DIGEST_GRACE),
    (digests.REPORT_JOB, digests.REPORT_AT, digests.REPORT_GRACE),
    (pairings.REMIND_JOB, pairings.REMIND_AT, pairings.GRACE),
    (pairings.REPORT_JOB, pairings.REPORT_AT, pairings.GRACE),
    (pairings.WISH_JOB, pairings.WISH_AT, pairings.GRACE),
)


@dataclass(frozen=True)
class Firing:
    """One upcoming (or overdue and still owed) firing."""

    at: datetime
    job: str
    what: str
    overdue: bool = False


async def upcoming(session: AsyncSession, now: datetime, tz: tzinfo, days: int = 35) -> list[Firing]:
    """Every firing from `now` to `now + days`, plus what is owed already, soonest first."""
    end = now + timedelta(days=days)
    found: list[Firing] = []
    regions = await resolve_regions(session, MORAL_DAY)
    for region, due in await moral_day.owed_regions(session, now, tz):
        found.append(Firing(due, MORAL_DAY, f"{region.unit.name}（逾期未发，下一次运行时补发）", overdue=True))
    for region in regions:
        rec = recurrence_of(region.rule)
        for at in rec.between(now, end, tz):
            found.append(Firing(at, MORAL_DAY, f"{region.unit.name}（{rec.describe()}，规则设在{region.owner.name}）"))
    for job, rule, grace in FIXED:
        last = rule.latest_due(now, tz)
        if now - last <= grace and (period_of(last, tz), "all") not in await fired_scopes(
                session, job, [period_of(last, tz)]):
            found.append(Firing(last, job, "全网", overdue=True))
        found.extend(Firing(at, job, "全网") for at in rule.between(now, end, tz))
    signed = (select(func.count()).where(ActivitySignup.activity_id == Activity.id, ActivitySignup.status == "signed")
              .correlate(Activity).scalar_subquery())
    for aid, title, start, n in await session.execute(
        select(Activity.id, Activity.title, Activity.starts_at, signed)
        .where(Activity.status == "planned", Activity.starts_at > now, Activity.starts_at <= end)
        .order_by(Activity.starts_at)
    ):
        for stage, before in reminders.STAGES:
            if start - before > now:
                found.append(Firing(start - before, reminders.JOB, f"#{aid}「{title}」{stage}，{n} 人已报名"))
    for tid, at, level in await session.execute(
        select(Task.id, Task.escalate_at, Task.dispatch_level)
        .where(Task.status == TaskStatus.dispatched.value, Task.escalate_at.is_not(None), Task.escalate_at <= end)
    ):
        found.append(Firing(at, "escalate", f"任务 #{tid}（目前在 {level or 'station'} 级）", overdue=at <= now))
    for tid, done in await session.execute(
        select(Task.id, Task.completed_at).where(Task.status == TaskStatus.completed.value)
    ):
        at = done + CONFIRM_AFTER
        if at <= end:
            found.append(Firing(at, "auto_confirm", f"任务 #{tid}", overdue=at <= now))
    return sorted(found, key=lambda f: (f.at, f.job))

