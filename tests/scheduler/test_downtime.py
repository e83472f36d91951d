"""Down for three days: on restart, what fell due meanwhile is sent once — coalesced, not skipped."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from scheduler.lease import DbLease
from scheduler.ticker import Scheduler
from storage.models import HoursEntry, Task, TaskAssignment


async def _tick_hourly(sched: Scheduler, w, start, end) -> None:
    now = start
    while now <= end:
        w.clock.set(now)
        done = await sched.tick()
        assert done is not None and -1 not in done.values(), done
        now += timedelta(hours=1)


async def _completed_task(w, completed_at) -> int:
    async with w.sessions() as s:
        task = Task(resident_id=w.ids["王大娘"], created_by_id=w.ids["王大娘"], org_unit_id=w.ids["PL"],
                    category="助老助残", description="理发", status="completed", volunteers_needed=1, accepted_count=1,
                    created_at=completed_at - timedelta(days=1), completed_at=completed_at, hours=Decimal("2"))
        s.add(task)
        await s.flush()
        s.add(TaskAssignment(task_id=task.id, volunteer_id=w.ids["赵志愿"], active=True, accepted_at=completed_at))
        await s.commit()
        return task.id


async def test_three_days_down_each_owed_message_once(world) -> None:
    w = world
    begun = await w.add_activity("PLD", "包饺子送老人", w.at(12, 5, 9), ["赵志愿"])
    both_missed = await w.add_activity("ZH", "清理楼道", w.at(12, 7, 13), ["赵志愿"], unit="CG")
    day_missed = await w.add_activity("KJ", "大棚技术讲座", w.at(12, 8, 9), ["姜兆彤"])
    task_id = await _completed_task(w, w.at(12, 3, 15))  # auto-confirm falls due on 6 December, 15:00

    first = Scheduler(w.sessions, w.clock, tz=w.tz, lease=DbLease(w.sessions, holder="before"))
    await _tick_hourly(first, w, w.at(11, 28, 9), w.at(12, 4, 12))
    before = len(await w.scheduled())
    # The machine goes down on 4 December at 12:00 and comes back on the 7th at 12:00,
    # as a new process: the old lease has expired and the new one takes over.
    restart = w.at(12, 7, 12)
    second = Scheduler(w.sessions, w.clock, tz=w.tz, lease=DbLease(w.sessions, holder="after"))
    w.clock.set(restart)
    done = await second.tick()
    assert done is not None
    late = [r for r in await w.scheduled()][before:]
    kinds = Counter(r.kind for r in late)
    # The moral day of the 5th (1 group + 4 people), Monday's digest, and one reminder per
    # activity still ahead — the 13:00 one missed both stages and gets the 1-hour one only.
    assert kinds == {"moral_day": 5, "captain_digest": 1, "activity_reminder": 2}
    assert all(r.created_at == restart for r in late)
    assert all(r.text.startswith("🌟（补发）") for r in late if r.kind == "moral_day")
    stages = {r.ref.split(":", 1)[1].split("@")[0]: r.ref.rsplit(":", 1)[1] for r in late
              if r.kind == "activity_reminder"}
    assert stages == {str(both_missed): "1h", str(day_missed): "24h"}
    assert done["auto_confirm"] == 1 and done["escalate"] == 0
    async with w.sessions() as s:
        assert (await s.get(Task, task_id)).status == "closed"

    # Ticking on: nothing owed is sent a second time; what falls due later still goes out.
    await _tick_hourly(second, w, restart + timedelta(hours=1), w.at(12, 10))
    assert await w.duplicates() == []
    rows = await w.scheduled("activity_reminder")
    by_activity = Counter(r.ref.split(":", 1)[1].split("@")[0] for r in rows)
    # Reminders for the activity that began while the bot was down were the 24 h one (sent
    # before the outage) only; the 1 h one would have come after it started.
    assert by_activity == {str(begun): 1, str(both_missed): 1, str(day_missed): 2}
    async with w.sessions() as s:
        hours = (await s.execute(select(HoursEntry.hours).where(HoursEntry.source_id == task_id))).scalars().all()
        assert [float(h) for h in hours] == [2.0]
