"""取消活动 and 改期 through the fake channel: who may, what everyone is told, and the polite answers.

The clock stands on Saturday 2026-11-28 09:00 (Beijing). 陈刚 captains 科技服务队 (姜兆彤, 刘农技,
孙科技); 中心管理员 administers the county, 蓬莱站长 only a village.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.models import AuditEntry, TeamGroup
from storage.models.activities import Activity, ActivitySignup

TZ = ZoneInfo("Asia/Shanghai")


async def _publish(chat, text: str = "活动 明天上午9点 村文化广场 包饺子 限2人", group: bool = True) -> None:
    """Activity #1 (tomorrow 09:00–11:00, two places): 姜兆彤 and 刘农技 signed up, 孙科技 waitlisted."""
    if group:
        async with chat.sessions() as s:
            s.add(TeamGroup(team_id=chat.ids["KJ"], platform="test", chat_id="g-kj", title="科技服务队群"))
            await s.commit()
    await chat.send("陈刚", text)
    await chat.send("陈刚", "确认")
    for name in ("姜兆彤", "刘农技", "孙科技"):
        await chat.send(name, "报名 #1")


async def _activity(chat) -> Activity:
    async with chat.sessions() as s:
        return await s.get(Activity, 1)


async def _audits(chat, action: str) -> list[AuditEntry]:
    async with chat.sessions() as s:
        return list((await s.execute(select(AuditEntry).where(AuditEntry.action == action))).scalars())


async def test_a_moved_activity_keeps_its_places_and_tells_everyone(chat) -> None:
    await _publish(chat)
    out = await chat.send("陈刚", "改期 #1 后天上午9点")
    assert chat.last_to("陈刚", out) == (
        "活动 #1【包饺子】已改到 11月30日（周一）09:00–11:00（原定 11月29日（周日）09:00–11:00）。"
        "已通知 3 人，1 个队伍群里的活动卡片已改为新时间。活动提醒按新时间发送。")
    signed = chat.last_to("姜兆彤", out)
    assert "原定：11月29日（周日）09:00–11:00\n改为：11月30日（周一）09:00–11:00" in signed
    assert "您的报名保留" in signed and "您的报名保留" in chat.last_to("刘农技", out)
    assert "您仍在候补第 1 位" in chat.last_to("孙科技", out)
    [card] = [m for m in out if m.kind == "edit"]
    assert card.ref == "activity:1" and "时间：11月30日（周一）09:00–11:00" in card.text
    assert "已改期，原定 11月29日" in card.text and [b.data for b in card.buttons] == ["报名 #1"]
    activity = await _activity(chat)
    assert activity.starts_at == datetime(2026, 11, 30, 9, tzinfo=TZ) and activity.status == "planned"
    [entry] = await _audits(chat, "activity_move")
    assert entry.detail["told"] == 3 and entry.detail["cards"] == 1
    # The waitlist still works at the new time: a place given up goes to 孙科技.
    assert "好消息" in chat.last_to("孙科技", await chat.send("姜兆彤", "取消报名 #1"))
    assert "11月30日（周一）09:00" in chat.last_to("刘农技", await chat.send("刘农技", "活动 #1"))


async def test_the_new_time_keeps_the_length_unless_the_captain_gives_one(chat) -> None:
    await _publish(chat, "活动 明天上午9点 村文化广场 包饺子 3小时 限2人", group=False)
    await chat.send("陈刚", "改期 #1 改到后天下午2点")
    activity = await _activity(chat)
    assert (activity.starts_at, activity.ends_at) == (datetime(2026, 11, 30, 14, tzinfo=TZ),
                                                      datetime(2026, 11, 30, 17, tzinfo=TZ))
    await chat.send("陈刚", "改期 #1 12月2日9点到10点")
    activity = await _activity(chat)
    assert (activity.starts_at, activity.ends_at) == (datetime(2026, 12, 2, 9, tzinfo=TZ),
                                                      datetime(2026, 12, 2, 10, tzinfo=TZ))


async def test_an_unreadable_past_or_vague_time_gets_a_polite_answer_and_changes_nothing(chat) -> None:
    await _publish(chat, group=False)
    answers = {text: chat.last_to("陈刚", await chat.send("陈刚", text)) for text in (
        "改期 #1 随便什么时候", "改期 #1 昨天上午9点", "改期 #1 今天早上7点", "改期 #1 后天", "改期 #1",
        "改期 #1 明天上午9点", "改期", "改期 #9 明天上午10点")}
    assert answers["改期 #1 随便什么时候"].startswith("没看懂新的时间。请这样发：改期 #活动号 新时间")
    assert answers["改期 #1 昨天上午9点"].startswith("新的时间已经过了")
    assert answers["改期 #1 今天早上7点"].startswith("新的时间已经过了")
    assert answers["改期 #1 后天"].startswith("请写明几点开始")
    assert "改期 #1 明天上午9点" in answers["改期 #1"]
    assert answers["改期 #1 明天上午9点"] == "活动 #1 本来就是这个时间，没有改动。"
    assert answers["改期"].startswith("请这样发：改期 #活动号 新时间")
    assert "没有找到活动 #9" in answers["改期 #9 明天上午10点"]
    assert (await _activity(chat)).starts_at == datetime(2026, 11, 29, 9, tzinfo=TZ)
    assert await _audits(chat, "activity_move") == []


async def test_only_the_teams_captain_or_an_admin_over_it_may_change_an_activity(chat) -> None:
    await _publish(chat, group=False)
    out = await chat.send("刘农技", "改期 #1 后天上午9点")
    assert chat.last_to("刘农技", out) == "只有「科技服务队」的队长或管理员可以改期。"
    out = await chat.send("蓬莱站长", "取消活动 #1")
    assert chat.last_to("蓬莱站长", out) == "只有「科技服务队」的队长或管理员可以取消活动。"
    assert [e.outcome for e in await _audits(chat, "activity_move")] == ["refused"]
    assert [e.outcome for e in await _audits(chat, "activity_cancel")] == ["refused"]
    assert (await _activity(chat)).status == "planned"
    # The county's admin may; the team's captain hears who did it.
    out = await chat.send("中心管理员", "改期 #1 后天上午9点")
    assert "已通知 4 人" in chat.last_to("中心管理员", out)
    assert chat.last_to("陈刚", out) == (
        "您队的活动 #1【包饺子】已由中心管理员改期：11月29日（周日）09:00–11:00 → 11月30日（周一）09:00–11:00。")


async def test_a_cancelled_activity_tells_everyone_and_closes(chat) -> None:
    await _publish(chat)
    out = await chat.send("陈刚", "取消活动 #1 下雨")
    assert chat.last_to("陈刚", out) == "已取消活动 #1【包饺子】。已通知 3 人，1 个队伍群里的活动卡片已改为「已取消」。"
    assert chat.last_to("姜兆彤", out) == (
        "很抱歉，活动 #1【包饺子】（11月29日（周日）09:00–11:00）取消了，原因：下雨。您的报名随之取消，不用去了。")
    assert "您的候补随之取消" in chat.last_to("孙科技", out)
    [card] = [m for m in out if m.kind == "edit"]
    assert card.text.startswith("❌ 活动 #1【包饺子】") and card.text.endswith("已取消，原因：下雨。")
    assert card.buttons == []
    assert (await _activity(chat)).status == "cancelled"
    [entry] = await _audits(chat, "activity_cancel")
    assert entry.detail["reason"] == "下雨" and entry.detail["told"] == 3
    assert "已经开始或结束了，不能再报名" in chat.last_to("张文艺", await chat.send("张文艺", "报名 #1"))
    assert "活动 #1 已经取消了。" == chat.last_to("陈刚", await chat.send("陈刚", "取消活动 #1"))
    assert "活动 #1 已经取消了。" == chat.last_to("陈刚", await chat.send("陈刚", "改期 #1 后天上午9点"))
    assert "近期没有活动" in chat.last_to("刘农技", await chat.send("刘农技", "活动"))


async def test_an_activity_that_has_begun_cannot_be_cancelled_or_moved(chat) -> None:
    await _publish(chat, group=False)
    chat.clock.advance(days=1)  # Sunday 09:00: it starts now
    assert chat.last_to("陈刚", await chat.send("陈刚", "取消活动 #1")) == "活动 #1 已经开始或结束了，不能再取消。"
    assert chat.last_to("陈刚", await chat.send("陈刚", "改期 #1 明天上午9点")) == "活动 #1 已经开始或结束了，不能再改期。"


async def test_a_check_in_for_the_old_time_is_cleared_by_a_move(chat) -> None:
    await _publish(chat, group=False)
    code = (await _activity(chat)).checkin_code
    chat.clock.advance(hours=23, minutes=30)  # Sunday 08:30: check-in is open
    assert "签到成功" in chat.last_to("姜兆彤", await chat.send("姜兆彤", f"签到 #1 {code}"))
    await chat.send("陈刚", "改期 #1 明天上午9点")
    async with chat.sessions() as s:
        signup = (await s.execute(select(ActivitySignup).where(
            ActivitySignup.volunteer_id == chat.ids["姜兆彤"]))).scalar_one()
        assert signup.checkin_at is None
    assert "开始前一小时才能签到" in chat.last_to("姜兆彤", await chat.send("姜兆彤", f"签到 #1 {code}"))


async def test_a_villagers_words_that_start_like_the_commands_are_a_request(chat) -> None:
    out = await chat.send("王大娘", "取消活动室明天的预约")
    assert "请确认您的需求" in chat.last_to("王大娘", out)
    out = await chat.send("李大爷", "改期的事想找人问问")
    assert "请确认您的需求" in chat.last_to("李大爷", out)
