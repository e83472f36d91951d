"""A simulated month on the injected clock: every job fires exactly when it should, and only then."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from scheduler.lease import DbLease
from scheduler.ticker import Scheduler


async def test_a_month_of_ticks_fires_each_job_on_time_and_once(world) -> None:
    w = world
    first = await w.add_activity("PLD", "包饺子送老人", w.at(12, 5, 9), ["赵志愿", "钱志愿"])
    second = await w.add_activity("KJ", "大棚技术讲座", w.at(12, 12, 14), ["姜兆彤", "刘农技", "孙科技"])
    sched = Scheduler(w.sessions, w.clock, tz=w.tz, lease=DbLease(w.sessions, holder="solo"))
    fired: dict[str, set] = defaultdict(set)
    # Every hour from Saturday 28 November 09:00 to 2 January (every due time is on the hour).
    now = w.at(11, 28, 9)
    while now <= w.at(1, 2, year=2027):
        w.clock.set(now)
        done = await sched.tick()
        assert done is not None and -1 not in done.values(), done
        for job, n in done.items():
            if n:
                fired[job].add(now)
        now += timedelta(hours=1)

    mondays = {w.at(11, 30, 8), w.at(12, 7, 8), w.at(12, 14, 8), w.at(12, 21, 8), w.at(12, 28, 8)}
    assert fired["moral_day"] == {w.at(12, 5, 8)}  # 5 November was before the rule was set
    assert fired["captain_digest"] == mondays
    assert fired["admin_report"] == {w.at(12, 1, 9), w.at(1, 1, 9, year=2027)}
    assert fired["activity_reminder"] == {w.at(12, 4, 9), w.at(12, 5, 8), w.at(12, 11, 14), w.at(12, 12, 13)}

    rows = await w.scheduled()
    assert await w.duplicates() == []
    by_kind: dict[str, list] = defaultdict(list)
    for r in rows:
        by_kind[r.kind].append(r)
    assert len(by_kind["moral_day"]) == 5
    assert len(by_kind["captain_digest"]) == 5 and {r.recipient_label for r in by_kind["captain_digest"]} == {"陈刚"}
    assert len(by_kind["admin_report"]) == 8  # four admins, twice
    reminders = by_kind["activity_reminder"]
    assert sorted((r.recipient_label, r.ref.rsplit(":", 1)[1]) for r in reminders if f":{first}@" in r.ref) == [
        ("赵志愿", "1h"), ("赵志愿", "24h"), ("钱志愿", "1h"), ("钱志愿", "24h")]
    assert len([r for r in reminders if f":{second}@" in r.ref]) == 6
    for r in rows:  # every message was written at the tick it fell due
        assert r.created_at in fired[r.kind]
