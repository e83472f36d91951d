"""No-shows are marked by the scheduler: 30 minutes after the start, once, and the captain is told."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from scheduler.runner import run_due
from storage.models import OutboxMessage
from storage.models.activities import ActivitySignup


async def _run(w, when) -> dict[str, int]:
    w.clock.set(when)
    return await run_due(w.sessions, when, tz=w.tz)


async def test_a_tick_after_start_plus_30_minutes_marks_the_no_show_once(world) -> None:
    w = world
    start = w.at(12, 5, 9)
    activity = await w.add_activity("KJ", "大棚技术讲座", start, ["姜兆彤"])
    marked_at = start + timedelta(minutes=31)

    assert (await _run(w, start + timedelta(minutes=29)))["no_show"] == 0
    assert (await _run(w, marked_at))["no_show"] == 1
    assert (await _run(w, start + timedelta(minutes=45)))["no_show"] == 0
    assert (await _run(w, start + timedelta(hours=3)))["no_show"] == 0

    async with w.sessions() as s:
        signup = (await s.execute(select(ActivitySignup).where(ActivitySignup.activity_id == activity))).scalar_one()
        told = (await s.execute(select(OutboxMessage).where(OutboxMessage.person_id == w.ids["陈刚"]))).scalars().all()
    assert signup.no_show is True
    # The captain (科技服务队's 陈刚) is told once, at the tick that marked it.
    assert [m.created_at for m in told] == [marked_at] and "姜兆彤" in told[0].text
