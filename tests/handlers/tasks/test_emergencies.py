"""Emergencies (issue 14 point 2): the safety line first, the task at once, every admin told, 10-minute climbs."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from scheduler.runner import run_due
from storage.models import AuditEntry, OrgUnit, OutboxMessage, Task, TaskOffer

FALL = "俺老伴摔了一跤 腿动不了了 快来人"
TZ = ZoneInfo("Asia/Shanghai")


async def _texts_to(chat, name: str) -> list[str]:
    async with chat.sessions() as s:
        return list((await s.execute(select(OutboxMessage.text).where(
            OutboxMessage.person_id == chat.ids[name]).order_by(OutboxMessage.id))).scalars())


async def _about(chat, name: str, fragment: str = "#1") -> int:
    return sum(1 for t in await _texts_to(chat, name) if fragment in t)


async def _at_23(chat) -> None:
    chat.clock.set(datetime(2026, 11, 28, 23, 0, tzinfo=TZ))


async def test_a_fall_at_night_gets_the_safety_line_first_and_every_admin_at_once(chat) -> None:
    await _at_23(chat)
    async with chat.sessions() as s:
        station = await s.get(OrgUnit, chat.ids["PL"])
        if hasattr(station, "duty_phone"):  # migration 0005's column, when present
            station.duty_phone = "0421-5822107"
        await s.commit()
    out = await chat.send("王大娘", FALL)
    to_her = chat.to("王大娘", out)
    assert to_her[0].startswith("⚠️ 请马上拨打 120（急救）！")  # before anything else, no question asked
    if hasattr(OrgUnit, "duty_phone"):
        assert "值班电话：0421-5822107" in to_her[0]
    assert "已为您发出紧急求助（任务 #1）" in to_her[1] and "请确认" not in "".join(to_her)
    for admin in ("蓬莱站长", "城关所长", "中心管理员"):
        assert "🚨 紧急求助 任务 #1" in chat.last_to(admin, out) and "13900000001" in chat.last_to(admin, out)
    assert not chat.to("台吉站长", out)
    offer = chat.last_to("赵志愿", out)
    assert offer.startswith("🚨 紧急求助 #1【急救】")
    async with chat.sessions() as s:
        task = await s.get(Task, 1)
        order = (await s.execute(select(AuditEntry).where(AuditEntry.action == "order"))).scalar_one()
    assert (task.status, task.urgent, task.emergency) == ("dispatched", True, "medical")
    assert order.detail["emergency"] == "medical"


async def test_an_emergency_climbs_every_ten_minutes_until_someone_takes_it(chat) -> None:
    await _at_23(chat)
    await chat.send("王大娘", FALL)
    chat.clock.advance(minutes=9)
    assert (await run_due(chat.sessions, chat.clock.now()))["escalate"] == 0
    # +10 min: the institute; +20: the center; +30: the center reminded again.
    for step, who in ((1, "城关所长"), (10, "中心管理员"), (10, "中心管理员")):
        chat.clock.advance(minutes=step)
        before = await _about(chat, who)
        assert (await run_due(chat.sessions, chat.clock.now()))["escalate"] == 1
        assert await _about(chat, who) == before + 1
    assert await _about(chat, "王大娘", "还没找到人，已报给") == 2  # institute and center, in words
    async with chat.sessions() as s:
        offers = set((await s.execute(select(TaskOffer.team_id).where(TaskOffer.task_id == 1))).scalars())
    # No team at the center serves the need, so at night every team there is asked: any hands will do.
    assert offers == {chat.ids[c] for c in ("PLD", "ZH", "KJ", "WY")}
    out = await chat.send("钱志愿", "接单 #1")
    assert "接单成功" in chat.last_to("钱志愿", out)
    assert "已由志愿者 钱志愿 接单" in chat.last_to("中心管理员", out)
    chat.clock.advance(minutes=30)
    assert (await run_due(chat.sessions, chat.clock.now()))["escalate"] == 0


async def test_the_villager_may_correct_or_call_off_an_emergency_after_it_went_out(chat) -> None:
    await chat.send("王大娘", FALL)
    out = await chat.send("王大娘", "在3号楼2单元501 门没锁")
    assert "已把您说的补充到任务 #1" in chat.last_to("王大娘", out)
    await chat.send("赵志愿", "接单 #1")
    out = await chat.send("王大娘", "说错了")
    assert "紧急求助（任务 #1）已取消" in chat.last_to("王大娘", out)
    assert "已被取消，不用再去了" in chat.last_to("赵志愿", out)
    assert "已被取消，不用再接了" in chat.last_to("钱志愿", out)
    async with chat.sessions() as s:
        task = await s.get(Task, 1)
    assert task.status == "cancelled" and "补充：在3号楼2单元501 门没锁" in task.description


async def test_a_fall_long_ago_is_an_ordinary_request(chat) -> None:
    out = await chat.send("王大娘", "去年摔过一跤 腿到现在阴天下雨就疼 想找人给看看")
    assert "请确认您的需求" in chat.last_to("王大娘", out) and "120" not in chat.last_to("王大娘", out)


async def test_someone_not_registered_hears_the_safety_line_before_the_question(chat) -> None:
    out = await chat.send("新来的", "着火了 俺家柴火垛着了")
    to_them = chat.to("新来的", out)
    assert to_them[0].startswith("⚠️ 请马上拨打 119（火警）！") and "注册" in to_them[1]
    out = await chat.send("新来的", "注册 杨树村")
    texts = chat.to("新来的", out)
    assert "119" in texts[1] and "已为您发出紧急求助（任务 #1）" in texts[2]
    assert "🚨 紧急求助 任务 #1【火情】" in chat.last_to("城关所长", out)  # 杨树村 has no admin of its own


async def test_a_command_right_after_an_emergency_is_still_a_command(chat) -> None:
    await chat.send("王大娘", FALL)
    out = await chat.send("王大娘", "我的")
    assert "补充" not in chat.last_to("王大娘", out)
    async with chat.sessions() as s:
        assert (await s.get(Task, 1)).description == FALL


async def test_thanks_after_an_emergency_is_answered_not_sent_to_the_volunteers(chat) -> None:
    await chat.send("王大娘", FALL)
    out = await chat.send("王大娘", "谢谢你们")
    assert "不客气" in chat.last_to("王大娘", out)
    assert not [t for t in await _texts_to(chat, "赵志愿") if "补充" in t]
    out = await chat.send("王大娘", "在3号楼2单元501 门没锁")  # news still reaches the task
    assert "已把您说的补充到任务 #1" in chat.last_to("王大娘", out)
    async with chat.sessions() as s:
        assert "谢谢" not in (await s.get(Task, 1)).description
