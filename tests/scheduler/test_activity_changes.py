"""An activity moved or cancelled: reminders follow the new time only, and a cancelled one is not reminded.

The reminder's sent-log period names the start time, so the 24-hour reminder already sent for
the old time does not stop the one for the new time, and nothing is sent at the old times.
科技服务队 (captain 陈刚) has its group bound in the `world` fixture.
"""

from __future__ import annotations

from datetime import timedelta

from scheduler.lease import DbLease
from scheduler.ticker import Scheduler


async def _tick_hourly(sched: Scheduler, w, start, end) -> None:
    now = start
    while now <= end:
        w.clock.set(now)
        done = await sched.tick()
        assert done is not None and -1 not in done.values(), done
        now += timedelta(hours=1)


async def _publish_with_waitlist(w) -> None:
    """Activity #1 on 3 December at 10:00 for two: 姜兆彤 and 刘农技 signed, 孙科技 waitlisted."""
    chat = w.chat
    await chat.send("陈刚", "活动 12月3日上午10点 村文化广场 大棚技术讲座 限2人")
    assert "已发布" in chat.last_to("陈刚", await chat.send("陈刚", "确认"))
    for name in ("姜兆彤", "刘农技", "孙科技"):
        await chat.send(name, "报名 #1")


async def test_moved_by_a_day_the_activity_is_reminded_at_the_new_time_only(world) -> None:
    w = world
    await _publish_with_waitlist(w)
    sched = Scheduler(w.sessions, w.clock, tz=w.tz, lease=DbLease(w.sessions, holder="solo"))
    await _tick_hourly(sched, w, w.at(12, 2, 8), w.at(12, 2, 11))  # the 24 h reminder, for the old time
    assert {r.created_at for r in await w.scheduled("activity_reminder")} == {w.at(12, 2, 10)}

    w.clock.set(w.at(12, 2, 11, 30))
    out = await w.chat.send("陈刚", "改期 #1 12月4日上午10点")
    assert "已改到 12月4日（周五）10:00–12:00（原定 12月3日（周四）10:00–12:00）" in w.chat.last_to("陈刚", out)
    assert "已通知 3 人" in w.chat.last_to("陈刚", out)
    for name in ("姜兆彤", "刘农技"):
        assert "改为：12月4日（周五）10:00–12:00" in w.chat.last_to(name, out)
    assert "您仍在候补第 1 位" in w.chat.last_to("孙科技", out)
    [card] = [m for m in out if m.kind == "edit"]
    assert card.address == "g-kj" and "时间：12月4日（周五）10:00–12:00" in card.text
    assert [b.data for b in card.buttons] == ["报名 #1"]

    await _tick_hourly(sched, w, w.at(12, 2, 12), w.at(12, 4, 12))
    reminders = await w.scheduled("activity_reminder")
    # Nothing at the old 1 h mark (3 December 09:00); the new time's 24 h and 1 h reminders, each to the two signed.
    assert sorted({r.created_at for r in reminders}) == [w.at(12, 2, 10), w.at(12, 3, 10), w.at(12, 4, 9)]
    late = [r for r in reminders if r.created_at > w.at(12, 2, 10)]
    assert sorted(r.recipient_label for r in late) == ["刘农技", "刘农技", "姜兆彤", "姜兆彤"]
    assert all("12月4日" in r.text for r in late)
    assert await w.duplicates() == []


async def test_a_cancelled_activity_is_not_reminded(world) -> None:
    w = world
    await _publish_with_waitlist(w)
    w.clock.set(w.at(12, 1, 12))
    out = await w.chat.send("陈刚", "取消活动 #1 讲课老师病了")
    assert "已取消活动 #1【大棚技术讲座】" in w.chat.last_to("陈刚", out)
    [card] = [m for m in out if m.kind == "edit"]
    assert "已取消，原因：讲课老师病了" in card.text and card.buttons == []
    sched = Scheduler(w.sessions, w.clock, tz=w.tz, lease=DbLease(w.sessions, holder="solo"))
    await _tick_hourly(sched, w, w.at(12, 1, 13), w.at(12, 3, 12))
    assert await w.scheduled("activity_reminder") == []
