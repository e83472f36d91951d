"""A new scheduled message is a description: `Scheduled` gives it exactly-once, catch-up and the fence."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduler.delivery import Mailing, Personal
from scheduler.fire import Scheduled
from scheduler.job import Fixed, JobRun, Occurrence
from storage.scheduling.digests import captains
from storage.scheduling.leases import FencedOut, begin_tenure
from storage.scheduling.recurrence import Recurrence

JOB = "test_wednesday"


async def _hello(session, occ: Occurrence, run: JobRun) -> Mailing:
    return Mailing(captains(), lambda pid: f"周三好 #{pid} {occ.period}")


WEDNESDAY = Scheduled(JOB, Fixed(Recurrence(hour=9, weekday=2), timedelta(days=2)),
                      Personal(compose=_hello, note=lambda n: f"{n} 位队长"))


async def _run(w, when, fence=None) -> tuple[int, JobRun]:
    run = JobRun(now=when, tz=w.tz, fence=fence)
    return await WEDNESDAY.run(w.sessions, run), run


async def test_a_described_job_is_sent_on_time_once_and_caught_up_within_its_grace(world) -> None:
    w = world
    assert (await _run(w, w.at(12, 2, 8, 59)))[0] == 0
    sent, run = await _run(w, w.at(12, 2, 9))
    assert sent == 1 and run.notes == [(JOB, "1 位队长")]  # 陈刚 captains 科技服务队
    assert (await _run(w, w.at(12, 2, 9)))[0] == 0
    assert (await _run(w, w.at(12, 3, 9)))[0] == 0
    # Down over the 9th: on the 11th (within two days) it is sent, for the 9th; on the 19th, the 16th's is dropped.
    assert (await _run(w, w.at(12, 11, 8)))[0] == 1
    assert (await _run(w, w.at(12, 19, 10)))[0] == 0
    rows = await w.scheduled(JOB)
    assert [r.text for r in rows] == [f"周三好 #{w.ids['陈刚']} 2026-12-02", f"周三好 #{w.ids['陈刚']} 2026-12-09"]
    assert [r.ref for r in rows] == [f"{JOB}:2026-12-02", f"{JOB}:2026-12-09"]


async def test_a_deposed_leader_writes_nothing_of_a_described_job(world) -> None:
    w = world
    async with w.sessions() as s:
        stale = await begin_tenure(s, name="scheduler", holder="A", now=w.at(12, 2, 8))
        await begin_tenure(s, name="scheduler", holder="B", now=w.at(12, 2, 8, 30))
        await s.commit()
    with pytest.raises(FencedOut):
        await _run(w, w.at(12, 2, 9), fence=stale)
    assert await w.scheduled(JOB) == []
    assert (await _run(w, w.at(12, 2, 9)))[0] == 1  # the firing was not left half-open
