"""The moral activity day job: each region's reminder, group-first, exactly once per day.

For every region a rule covers, the occurrence due most recently is owed if it fell due
after the rule was set and no more than `GRACE` ago — so after a restart what fell due while
the bot was down goes out once, late (marked 补发), and a rule set today does not send last
month's. One transaction per run opens each owed region's firing, then fans out in SQL:
first every bound team group, then every opted-in volunteer of the region whom no group of
their teams reached (one message in a group reaches the whole team; no duplicate DM).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.activities.moral_day import PlannedActivity, moral_day_text
from scheduler.job import JobRun, guard
from storage.scheduling.fanout import (
    claim_region_groups, cover_units, enqueue_claimed, fan_out_people, open_firing, prepare_bulk, region_audience,
    sent_by,
)
from storage.scheduling.recurrence import period_of
from storage.models.scheduling import ScheduleFiring, ScheduleSend
from storage.scheduling.rules import MORAL_DAY, Region, fired_scopes, planned_in_firings, recurrence_of, resolve_regions

GRACE = timedelta(days=4)
LATE_AFTER = timedelta(hours=2)


async def owed_regions(session: AsyncSession, now: datetime, tz: tzinfo) -> list[tuple[Region, datetime]]:
    """Each region whose latest moral day is due, within the grace, and not yet fired."""
    owed: list[tuple[Region, datetime]] = []
    for region in await resolve_regions(session, MORAL_DAY):
        due = recurrence_of(region.rule).latest_due(now, tz)
        if due < region.rule.effective_from or now - due > GRACE:
            continue
        owed.append((region, due))
    done = await fired_scopes(session, MORAL_DAY, [period_of(d, tz) for _, d in owed])
    return [(r, d) for r, d in owed if (period_of(d, tz), r.scope) not in done]


async def moral_day_due(sessions: async_sessionmaker[AsyncSession], run: JobRun) -> int:
    """Enqueue every owed moral-day message; returns how many messages were enqueued."""
    async with sessions() as session:
        owed = await owed_regions(session, run.now, run.tz)
    if not owed:
        return 0
    async with sessions() as session:
        await guard(session, run.fence)
        firings: dict[int, tuple[Region, datetime]] = {}
        for region, due in owed:
            fid = await open_firing(session, job=MORAL_DAY, period=period_of(due, run.tz), scope=region.scope,
                                    due_at=due, now=run.now, unit_id=region.unit.id,
                                    fence_token=run.fence.token if run.fence else None)
            if fid is not None:  # None: another worker fired this region a moment ago
                firings[fid] = (region, due)
        if not firings:
            await session.rollback()
            return 0
        await prepare_bulk(session)
        await cover_units(session, [(fid, u) for fid, (region, _) in firings.items() for u in region.unit_ids])
        await _write_texts(session, firings, run)
        ids = list(firings)
        # Groups first, in the sent-log and in the outbox (the relay sends oldest first); then
        # the volunteers no group of theirs reached.
        await claim_region_groups(session, job=MORAL_DAY, firing_ids=ids, now=run.now)
        count = await enqueue_claimed(session, job=MORAL_DAY, firing_ids=ids, kind=MORAL_DAY, now=run.now,
                                      targets=("group",))
        count += await fan_out_people(session, job=MORAL_DAY, firing_ids=ids, audience=region_audience(ids),
                                      kind=MORAL_DAY, now=run.now)
        per_firing = await _record_recipients(session, ids)
        await session.commit()
    for fid, (region, _) in firings.items():
        groups, people = per_firing.get(fid, (0, 0))
        run.note(MORAL_DAY, f"{region.unit.name}：{groups} 个队伍群，{people} 位志愿者")
    return count


async def _write_texts(session: AsyncSession, firings: dict[int, tuple[Region, datetime]], run: JobRun) -> None:
    """Each region's message, with that day's planned activities read in one query for all regions."""
    days = {fid: due.astimezone(run.tz).replace(hour=0, minute=0) for fid, (_, due) in firings.items()}
    listed: dict[int, list[PlannedActivity]] = {fid: [] for fid in firings}
    for fid, *activity in await planned_in_firings(session, list(firings), min(days.values()),
                                                   max(days.values()) + timedelta(days=1)):
        if days[fid] <= activity[2] < days[fid] + timedelta(days=1):
            listed[fid].append(PlannedActivity(*activity))
    texts = [{"fid": fid, "text": moral_day_text(region.unit.name, days[fid].date(), listed[fid], run.tz,
                                                 late=run.now - due > LATE_AFTER)}
             for fid, (region, due) in firings.items()]
    table = ScheduleFiring.__table__
    await session.execute(update(table).where(table.c.id == bindparam("fid")).values(text=bindparam("text")), texts)


async def _record_recipients(session: AsyncSession, ids: list[int]) -> dict[int, tuple[int, int]]:
    rows = (await session.execute(
        select(ScheduleSend.firing_id, ScheduleSend.target_type, func.count())
        .where(await sent_by(session, MORAL_DAY, ids)).group_by(ScheduleSend.firing_id, ScheduleSend.target_type)
    )).all()
    counts: dict[int, tuple[int, int]] = {}
    for fid, kind, n in rows:
        groups, people = counts.get(fid, (0, 0))
        counts[fid] = (groups + n, people) if kind == "group" else (groups, people + n)
    if counts:
        table = ScheduleFiring.__table__
        await session.execute(update(table).where(table.c.id == bindparam("fid")).values(recipients=bindparam("n")),
                              [{"fid": fid, "n": g + p} for fid, (g, p) in counts.items()])
    return counts
