"""Escalation (docs/tasks.md): station → institute → center on the clock, each level told once."""

from __future__ import annotations

from sqlalchemy import select

from scheduler.runner import run_due
from storage.models import HoursEntry, OutboxMessage, Task, TaskOffer


async def _texts_to(chat, name: str) -> list[str]:
    async with chat.sessions() as s:
        rows = (await s.execute(
            select(OutboxMessage.text).where(OutboxMessage.person_id == chat.ids[name]).order_by(OutboxMessage.id)
        )).scalars().all()
    return list(rows)


async def test_unaccepted_task_climbs_each_level_once(chat) -> None:
    await chat.send("王大娘", "隔壁孤寡老人李大爷家里没人照顾，想请志愿者去看看")
    await chat.send("王大娘", "确认")
    async with chat.sessions() as s:
        task = await s.get(Task, 1)
        assert (task.dispatch_level, task.status) == ("station", "dispatched")

    chat.clock.advance(hours=1, minutes=59)
    assert (await run_due(chat.sessions, chat.clock.now()))["escalate"] == 0

    chat.clock.advance(minutes=1)
    assert (await run_due(chat.sessions, chat.clock.now()))["escalate"] == 1
    assert (await run_due(chat.sessions, chat.clock.now()))["escalate"] == 0  # twice: once
    async with chat.sessions() as s:
        task = await s.get(Task, 1)
        assert task.dispatch_level == "institute"
        offers = (await s.execute(select(TaskOffer.team_id).where(TaskOffer.task_id == 1))).scalars().all()
        assert set(offers) == {chat.ids["PLD"], chat.ids["ZH"]}
    upgraded = [t for t in await _texts_to(chat, "城关所长") if "已升级到城关街道" in t]
    assert len(upgraded) == 1
    assert not [t for t in await _texts_to(chat, "中心管理员") if "#1" in t]

    chat.clock.advance(hours=4)
    assert (await run_due(chat.sessions, chat.clock.now()))["escalate"] == 1
    await run_due(chat.sessions, chat.clock.now())
    center = [t for t in await _texts_to(chat, "中心管理员") if "#1" in t]
    assert len(center) == 1 and "人工派单" in center[0]

    chat.clock.advance(hours=24)
    await run_due(chat.sessions, chat.clock.now())
    await run_due(chat.sessions, chat.clock.now())
    center = [t for t in await _texts_to(chat, "中心管理员") if "#1" in t]
    assert len(center) == 2 and "仍无人接单" in center[1]

    # The institute's team can still take it after it moved up.
    out = await chat.send("赵志愿", "接单 #1")
    assert "接单成功" in chat.last_to("赵志愿", out)


async def test_urgent_tasks_escalate_after_thirty_minutes(chat) -> None:
    await chat.send("王大娘", "紧急！独居老人摔倒了，需要人马上来帮忙")
    await chat.send("王大娘", "确认")
    chat.clock.advance(minutes=30)
    assert (await run_due(chat.sessions, chat.clock.now()))["escalate"] == 1


async def test_accepted_task_does_not_escalate(chat) -> None:
    await chat.send("王大娘", "奶奶想请人来帮忙理个发")
    await chat.send("王大娘", "确认")
    await chat.send("赵志愿", "接单 #1")
    chat.clock.advance(hours=10)
    assert (await run_due(chat.sessions, chat.clock.now()))["escalate"] == 0


async def test_unrated_task_is_confirmed_after_72_hours(chat) -> None:
    await chat.send("王大娘", "奶奶想请人来帮忙理个发")
    await chat.send("王大娘", "确认")
    await chat.send("赵志愿", "接单 #1")
    await chat.send("赵志愿", "完成 #1 1.5小时")
    chat.clock.advance(hours=71)
    assert (await run_due(chat.sessions, chat.clock.now()))["auto_confirm"] == 0
    chat.clock.advance(hours=1)
    assert (await run_due(chat.sessions, chat.clock.now()))["auto_confirm"] == 1
    assert (await run_due(chat.sessions, chat.clock.now()))["auto_confirm"] == 0
    async with chat.sessions() as s:
        assert (await s.get(Task, 1)).status == "closed"
        hours = (await s.execute(select(HoursEntry.hours))).scalars().all()
        assert [float(h) for h in hours] == [1.5]


async def test_an_urgent_request_that_is_no_emergency_is_drafted_and_waits_thirty_minutes(chat) -> None:
    out = await chat.send("王大娘", "急！家里水管冻裂了 需要人马上来修")
    assert "请确认您的需求" in chat.last_to("王大娘", out) and "紧急：是" in chat.last_to("王大娘", out)
    await chat.send("王大娘", "确认")
    chat.clock.advance(minutes=29)
    assert (await run_due(chat.sessions, chat.clock.now()))["escalate"] == 0
    chat.clock.advance(minutes=1)
    assert (await run_due(chat.sessions, chat.clock.now()))["escalate"] == 1
    async with chat.sessions() as s:
        assert (await s.get(Task, 1)).emergency is None
