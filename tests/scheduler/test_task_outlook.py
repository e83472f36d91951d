"""`xinfeng jobs list` shows every task waiting longer than its window, and why (issue 14 point 1)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from scheduler.runner import run_due
from scheduler.upcoming import upcoming

TZ = ZoneInfo("Asia/Shanghai")


async def test_a_task_held_by_an_admin_is_listed_ahead_and_a_late_one_says_why(chat) -> None:
    await chat.send("王大娘", "邻居占了我家宅基地，想找人咨询一下法律问题")
    await chat.send("王大娘", "确认")  # held by the station admin: no team serves it
    now = chat.clock.now()
    async with chat.sessions() as s:
        ahead = [f for f in await upcoming(s, now, TZ, days=1) if f.job == "escalate"]
    assert [(f.at - now, f.overdue) for f in ahead] == [(timedelta(hours=2), False)]
    assert ahead[0].what == "任务 #1（目前在 station 级）"

    late = now + timedelta(hours=5)  # nobody ran the scheduler
    async with chat.sessions() as s:
        listed = [f for f in await upcoming(s, late, TZ, days=1) if f.job == "escalate"]
    assert len(listed) == 1 and listed[0].overdue
    assert listed[0].what.startswith("任务 #1 卡住：等待时限已过 180 分钟仍未升级")
    assert "蓬莱社区的站长蓬莱站长" in listed[0].what

    await run_due(chat.sessions, late)  # the tick catches up: it moved to the institute, on time again
    async with chat.sessions() as s:
        listed = [f for f in await upcoming(s, late, TZ, days=1) if f.job == "escalate"]
    assert [f.overdue for f in listed] == [False] and "institute" in listed[0].what
