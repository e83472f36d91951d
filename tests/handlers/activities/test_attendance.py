"""签到 → 签退 → 核时, no-shows and their undoing, through the fake channel.

The clock stands on Saturday 2026-11-28 09:00 (Beijing); the activity starts at 10:00 and
lasts two hours. 陈刚 captains 科技服务队 (姜兆彤, 刘农技, 孙科技).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from handlers.activities.attendance import mark_no_shows_due
from handlers.core.messages import InboundMessage, Media
from storage.models import AuditEntry, HoursEntry
from storage.models.activities import Activity, ActivitySignup
from storage.programmes.points import redeem, stock_goods


async def _activity(chat, extra: str = "", when: str = "今天上午10点") -> str:
    """Publish activity #1 and sign up 姜兆彤, 刘农技 and 孙科技; returns its check-in code."""
    await chat.send("陈刚", f"活动 {when} 村文化广场 包饺子 限5人" + extra)
    await chat.send("陈刚", "确认")
    for name in ("姜兆彤", "刘农技", "孙科技"):
        await chat.send(name, "报名 #1")
    async with chat.sessions() as s:
        return (await s.get(Activity, 1)).checkin_code


async def _location(chat, name: str, ref: str):
    pid = await chat.person_id(name)
    chat._seq += 1
    msg = InboundMessage(platform="test", user_id=f"u{pid}", chat_id=f"u{pid}", text="",
                         message_id=f"loc{chat._seq}", user_name=name, media=(Media("location", ref),))
    before = len(chat.channel.sent)
    await chat.engine.handle(msg)
    await chat.relay.deliver_pending()
    return chat.channel.sent[before:]


async def _ledger(chat) -> dict[int, Decimal]:
    """Each volunteer's verified hours: credited rows plus the rows of any corrections."""
    async with chat.sessions() as s:
        rows = (await s.execute(select(HoursEntry))).scalars().all()
    assert all(r.source_type in ("activity_signup", "hours_correction") for r in rows)
    totals: dict[int, Decimal] = {}
    for r in rows:
        totals[r.volunteer_id] = totals.get(r.volunteer_id, Decimal(0)) + Decimal(r.hours)
    return totals


async def test_check_in_out_and_the_captain_verifies_all(chat) -> None:
    code = await _activity(chat)
    chat.clock.advance(minutes=50)  # 09:50
    out = await chat.send("姜兆彤", f"签到 #1 {code}")
    assert "签到成功" in chat.last_to("姜兆彤", out) and "09:50" in chat.last_to("姜兆彤", out)
    assert [b.data for b in out[-1].buttons] == ["签退 #1"]
    assert "已经签到过" in chat.last_to("姜兆彤", await chat.send("姜兆彤", f"签到 #1 {code}"))
    chat.clock.advance(minutes=20)  # 10:10
    await chat.send("刘农技", f"/checkin 1 {code}")
    chat.clock.advance(hours=2, minutes=40)  # 12:50 — 姜兆彤 stayed 3 h, capped at 2
    out = await chat.send("姜兆彤", "签退 #1")
    assert "本次 2 小时" in chat.last_to("姜兆彤", out)
    out = await chat.send("刘农技", "签退 1号")
    assert "本次 2 小时" in chat.last_to("刘农技", out)
    assert await _ledger(chat) == {}  # nothing counts before the captain verifies

    sheet = chat.last_to("陈刚", await chat.send("陈刚", "核时 #1"))
    assert "姜兆彤：签到 09:50 签退 12:50 → 2 小时" in sheet
    assert "孙科技：未签到" in sheet and f"签到码：{code}" in sheet
    out = await chat.send("陈刚", "核时 #1 全部")
    verified = chat.last_to("陈刚", out)
    assert "已核定：姜兆彤 2 小时、刘农技 2 小时" in verified and "孙科技" in verified
    assert "2 小时志愿时长已由陈刚核定" in chat.last_to("刘农技", out)
    assert await _ledger(chat) == {chat.ids["姜兆彤"]: Decimal("2.00"), chat.ids["刘农技"]: Decimal("2.00")}
    # Running it again credits nothing twice.
    await chat.send("陈刚", "核时 #1 全部")
    assert len(await _ledger(chat)) == 2
    assert "志愿时长：2 小时" in chat.last_to("刘农技", await chat.send("刘农技", "我的"))


async def test_a_captain_corrects_one_person_within_the_activity_length(chat) -> None:
    code = await _activity(chat)
    chat.clock.advance(hours=1)
    await chat.send("姜兆彤", f"签到 #1 {code}")
    chat.clock.advance(minutes=30)
    await chat.send("姜兆彤", "签退 #1")  # 0.5 h: left early to fetch flour, came back
    assert "不能超过活动时长 2 小时" in chat.last_to("陈刚", await chat.send("陈刚", "核时 #1 姜兆彤 3小时"))
    out = await chat.send("陈刚", "核时 #1 姜兆彤 一个半小时")
    assert "已核定 姜兆彤 在活动 #1 的时长：1.5 小时" in chat.last_to("陈刚", out)
    # Hours given again for someone already verified correct them (issue 14): a ledger row for the difference.
    out = await chat.send("陈刚", "核时 #1 姜兆彤 2小时")
    assert "从 1.5 小时更正为 2 小时" in chat.last_to("陈刚", out)
    assert "不在活动 #1 的报名名单上" in chat.last_to("陈刚", await chat.send("陈刚", "核时 #1 王大娘 2小时"))
    assert await _ledger(chat) == {chat.ids["姜兆彤"]: Decimal("2.00")}
    async with chat.sessions() as s:
        entry = (await s.execute(select(AuditEntry).where(AuditEntry.action == "verify_hours"))).scalar_one()
        assert entry.detail["corrected"] == "0.50" and entry.detail["hours"] == "1.50"


async def test_only_the_captain_verifies(chat) -> None:
    await _activity(chat)
    out = await chat.send("刘农技", "核时 #1 全部")
    assert "只有「科技服务队」的队长或管理员可以核时" in chat.last_to("刘农技", out)
    out = await chat.send("蓬莱站长", "核时 #1")  # an admin, but not over the county's team
    assert "只有" in chat.last_to("蓬莱站长", out)
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry.actor_id).where(AuditEntry.outcome == "refused"))).scalars().all()
    assert refused == [chat.ids["刘农技"], chat.ids["蓬莱站长"]]
    # The center admin is over it.
    assert "核定全部" in chat.last_to("中心管理员", await chat.send("中心管理员", "核时 #1"))


async def test_check_in_mistakes_get_polite_answers(chat) -> None:
    code = await _activity(chat, when="今天上午11点")
    wrong = "0000" if code != "0000" else "1111"
    assert "开始前一小时才能签到" in chat.last_to("姜兆彤", await chat.send("姜兆彤", f"签到 #1 {code}"))
    chat.clock.advance(hours=1, minutes=30)
    assert "签到码不对" in chat.last_to("姜兆彤", await chat.send("姜兆彤", f"签到 #1 {wrong}"))
    assert "没有报名活动 #1" in chat.last_to("张文艺", await chat.send("张文艺", f"签到 #1 {code}"))
    assert "还没有签到" in chat.last_to("刘农技", await chat.send("刘农技", "签退 #1"))
    assert "签到 #活动号 签到码" in chat.last_to("刘农技", await chat.send("刘农技", "签到"))
    await chat.send("刘农技", "签到 #1")
    assert "没有设定位置" in chat.last_to("刘农技", await _location(chat, "刘农技", "41.8,120.77"))
    chat.clock.advance(hours=3)
    assert "已经结束" in chat.last_to("孙科技", await chat.send("孙科技", f"签到 #1 {code}"))
    async with chat.sessions() as s:
        audit = (await s.execute(select(AuditEntry).where(AuditEntry.action == "checkin"))).scalar_one()
        assert audit.outcome == "refused" and audit.detail["reason"] == "wrong_code"


async def test_code_asked_for_after_a_bare_check_in(chat) -> None:
    code = await _activity(chat)
    chat.clock.advance(minutes=55)
    assert "请发活动 #1 的签到码" in chat.last_to("刘农技", await chat.send("刘农技", "签到 #1"))
    assert "签到成功" in chat.last_to("刘农技", await chat.send("刘农技", code))


async def test_check_in_by_shared_location(chat) -> None:
    await _activity(chat, " 位置:41.8,120.77 范围:200米")
    chat.clock.advance(minutes=55)
    await chat.send("刘农技", "签到 #1")
    out = await _location(chat, "刘农技", "41.81,120.77")  # ~1.1 km away
    assert "太远了" in chat.last_to("刘农技", out)
    await chat.send("刘农技", "签到 #1")
    out = await _location(chat, "刘农技", "41.8005,120.7702")
    assert "签到成功" in chat.last_to("刘农技", out)


async def test_no_shows_are_reported_to_the_captain_and_can_be_undone(chat) -> None:
    code = await _activity(chat)
    chat.clock.advance(minutes=55)
    await chat.send("姜兆彤", f"签到 #1 {code}")
    chat.clock.advance(minutes=35)  # 10:30: start + 30 min
    async with chat.sessions() as s:
        assert await mark_no_shows_due(s, chat.clock.now()) == 2
        await s.commit()
    async with chat.sessions() as s:
        assert await mark_no_shows_due(s, chat.clock.now()) == 0
        await s.commit()
    await chat.relay.deliver_pending()
    told = [m.text for m in chat.channel.sent if m.person_id == chat.ids["陈刚"] and "缺席" in m.text]
    assert len(told) == 1 and "刘农技、孙科技" in told[0] and "撤销缺席 #1" in told[0]
    sheet = chat.last_to("陈刚", await chat.send("陈刚", "核时 #1"))
    assert "刘农技：缺席" in sheet
    assert "先发：撤销缺席 #1 刘农技" in chat.last_to("陈刚", await chat.send("陈刚", "核时 #1 刘农技 2小时"))
    out = await chat.send("陈刚", "撤销缺席 #1 刘农技")
    assert "已撤销 刘农技" in chat.last_to("陈刚", out) and "撤销了您" in chat.last_to("刘农技", out)
    assert "没有缺席记录" in chat.last_to("陈刚", await chat.send("陈刚", "撤销缺席 #1 刘农技"))
    out = await chat.send("陈刚", "核时 #1 刘农技 2小时")
    assert "已核定 刘农技" in chat.last_to("陈刚", out)
    assert await _ledger(chat) == {chat.ids["刘农技"]: Decimal("2.00")}
    async with chat.sessions() as s:
        rows = {r.volunteer_id: r for r in (await s.execute(select(ActivitySignup))).scalars()}
        assert rows[chat.ids["孙科技"]].no_show and not rows[chat.ids["刘农技"]].no_show
        assert await mark_no_shows_due(s, chat.clock.now()) == 0  # the undo sticks


async def test_beneficiaries_feed_the_project_figures(chat) -> None:
    await chat.send("中心管理员", "项目 周末文化广场")
    await _activity(chat, " 项目:周末文化广场")
    assert "受益 30 人" in chat.last_to("陈刚", await chat.send("陈刚", "受益 #1 30人"))
    listing = chat.last_to("中心管理员", await chat.send("中心管理员", "项目"))
    assert "周末文化广场（北票市新时代文明实践中心）活动 1 场，受益 30 人" in listing


async def test_verified_hours_corrected_up_and_down_with_points_following(chat) -> None:
    await _activity(chat, extra=" 3小时")  # 10:00–13:00
    chat.clock.advance(hours=4)  # 13:00
    assert "已核定 姜兆彤 在活动 #1 的时长：2 小时" in chat.last_to("陈刚", await chat.send("陈刚", "核时 #1 姜兆彤 2小时"))
    out = await chat.send("陈刚", "核时 #1 姜兆彤 3小时")
    assert chat.last_to("陈刚", out) == "已把 姜兆彤 在活动 #1 的时长从 2 小时更正为 3 小时，积分 +1。已告诉姜兆彤。"
    assert chat.last_to("姜兆彤", out) == "您在活动 #1【包饺子】的志愿时长已由陈刚从 2 小时更正为 3 小时，积分 +1。"
    assert "本来就是 3 小时" in chat.last_to("陈刚", await chat.send("陈刚", "核时 #1 姜兆彤 3小时"))
    assert "不能超过活动时长 3 小时" in chat.last_to("陈刚", await chat.send("陈刚", "核时 #1 姜兆彤 4小时"))
    assert "要更正请写上小时数" in chat.last_to("陈刚", await chat.send("陈刚", "核时 #1 姜兆彤"))
    assert "只有「科技服务队」的队长或管理员可以核时" in chat.last_to(
        "刘农技", await chat.send("刘农技", "核时 #1 姜兆彤 1小时"))
    points = chat.last_to("姜兆彤", await chat.send("姜兆彤", "积分"))
    assert "您的积分：3" in points and "+2 活动 #1 服务 2 小时" in points

    # The three points are spent at the shop; then the hours go down to one.
    async with chat.sessions() as s:
        goods = await stock_goods(session=s, org_unit_id=chat.ids["BP"], name="毛巾", price=3, added=1,
                                  now=chat.clock.now())
        await redeem(session=s, person_id=chat.ids["姜兆彤"], goods_id=goods.id, quantity=1, shopkeeper_id=None,
                     now=chat.clock.now())
        await s.commit()
    out = await chat.send("陈刚", "核时 #1 姜兆彤 1小时")
    assert chat.last_to("陈刚", out) == ("已把 姜兆彤 在活动 #1 的时长从 3 小时更正为 1 小时。积分应扣回 2，已用掉的扣不回，"
                                        "实扣 0（积分不会扣成负数）。已告诉姜兆彤。")
    assert "更正为 1 小时。积分应扣回 2" in chat.last_to("姜兆彤", out)
    assert "志愿时长：1 小时" in chat.last_to("姜兆彤", await chat.send("姜兆彤", "我的"))
    assert await _ledger(chat) == {chat.ids["姜兆彤"]: Decimal("1.00")}
    async with chat.sessions() as s:
        entries = (await s.execute(select(AuditEntry).where(AuditEntry.action == "hours_correct")
                                   .order_by(AuditEntry.id))).scalars().all()
        assert [(e.detail["before"], e.detail["after"], e.detail["points_owed"]) for e in entries] == [
            ("2.00", "3.00", "0.00"), ("3.00", "1.00", "2.00")]
