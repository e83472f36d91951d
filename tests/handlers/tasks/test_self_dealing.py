"""No self-dealing (issue 12): one's own or one's household's order, one's own rating, the daily hours cap.

The issue's volunteer ordered help for herself, accepted it, reported 24 h, rated it 5★ and spent
the points. The clock stands on 2026-11-28 09:00 in Beijing; 赵志愿 and 钱志愿 serve 蓬莱社区志愿服务队
(no captain: the station admin 蓬莱站长 leads it), 姜兆彤 serves 陈刚's 科技服务队.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update

from storage.models import AuditEntry, HoursEntry, Task
from storage.models.activities import Activity, ActivitySignup
from storage.tasks.transitions import accept_task

ELDER_CARE = "奶奶八十多了，想请人来帮忙理个发"


async def _order(chat, who: str, text: str = ELDER_CARE) -> None:
    await chat.send(who, text)
    await chat.send(who, "确认")


async def _refusals(chat, action: str) -> list[AuditEntry]:
    async with chat.sessions() as s:
        return list((await s.execute(select(AuditEntry).where(AuditEntry.action == action,
                                                              AuditEntry.outcome == "refused"))).scalars())


async def test_a_volunteer_cannot_accept_her_own_order(chat) -> None:
    await _order(chat, "赵志愿")
    out = await chat.send("赵志愿", "接单 #1")
    assert "是您自己点的单，不能自己接" in chat.last_to("赵志愿", out)
    [refused] = await _refusals(chat, "accept")
    assert (refused.target_type, refused.target_id) == ("task", 1)


async def test_nor_one_ordered_for_her_household_by_phone_or_address(chat) -> None:
    # 王大娘 gives 钱志愿's phone as the contact: the same household.
    await _order(chat, "王大娘", ELDER_CARE + "，电话13900000016")
    out = await chat.send("钱志愿", "接单 #1")
    assert "家里人点的单" in chat.last_to("钱志愿", out)
    # 赵志愿 once ordered to 建设街12号 3号楼 for herself; an order to that address is her household's too.
    await _order(chat, "赵志愿")
    await _order(chat, "王大娘")
    async with chat.sessions() as s:
        await s.execute(update(Task).where(Task.id == 2).values(place="建设街12号 3号楼"))
        await s.execute(update(Task).where(Task.id == 3).values(place="建设街12号3号楼"))
        await s.commit()
    out = await chat.send("赵志愿", "接单 #3")
    assert "地址就是您家的地址" in chat.last_to("赵志愿", out)
    assert [r.detail.get("household") for r in await _refusals(chat, "accept")] == [True, True]
    # Someone else's household is no obstacle.
    assert "接单成功" in chat.last_to("赵志愿", await chat.send("赵志愿", "接单 #1"))


async def test_a_volunteer_who_served_a_task_cannot_rate_it(chat) -> None:
    await _order(chat, "王大娘")
    async with chat.sessions() as s:  # however it came to be, 赵志愿 holds the task and is its orderer's account
        await accept_task(session=s, task_id=1, volunteer_id=chat.ids["赵志愿"], team_id=chat.ids["PLD"],
                          now=chat.clock.now())
        await s.execute(update(Task).where(Task.id == 1).values(created_by_id=chat.ids["赵志愿"]))
        await s.commit()
    await chat.send("赵志愿", "完成 #1 2小时")
    out = await chat.send("赵志愿", "评价 #1 5")
    assert "不能给自己评价" in chat.last_to("赵志愿", out)
    assert [r.target_id for r in await _refusals(chat, "rate")] == [1]


async def test_hours_past_the_daily_cap_wait_for_a_leaders_word(chat) -> None:
    await _order(chat, "王大娘")
    await chat.send("赵志愿", "接单 #1")
    out = await chat.send("赵志愿", "完成 #1 24小时")
    assert "一天最多记 12 小时" in chat.last_to("赵志愿", out)
    asked = [m for m in out if m.person_id == chat.ids["蓬莱站长"]]
    assert asked and [b.data for b in asked[-1].buttons] == ["核准时长 #1 赵志愿 24小时"]
    async with chat.sessions() as s:
        assert (await s.get(Task, 1)).status == "accepted"  # nothing recorded yet
    # Another volunteer may not approve; the refusal names the task and the volunteer.
    assert "只有赵志愿所在队伍的队长或管理员" in chat.last_to("钱志愿", await chat.send("钱志愿", "核准时长 #1 赵志愿 24小时"))
    [refused] = await _refusals(chat, "hours_over_cap")
    assert (refused.target_id, refused.detail["volunteer_id"]) == (1, chat.ids["赵志愿"])
    out = await chat.send("蓬莱站长", "核准时长 #1 赵志愿 24小时")
    assert "已核准" in chat.last_to("蓬莱站长", out) and "请为这次服务打分" in chat.last_to("王大娘", out)
    async with chat.sessions() as s:
        audit = (await s.execute(select(AuditEntry).where(AuditEntry.action == "hours_over_cap",
                                                          AuditEntry.outcome == "ok"))).scalar_one()
        assert audit.actor_id == chat.ids["蓬莱站长"] and audit.detail["cap"] == "12"
        assert Decimal((await s.get(Task, 1)).hours) == 24


async def test_the_cap_counts_activities_and_tasks_of_the_same_day(chat) -> None:
    now = chat.clock.now()
    async with chat.sessions() as s:  # 姜兆彤 checked out of an 11-hour activity this morning
        activity = Activity(team_id=chat.ids["KJ"], org_unit_id=chat.ids["BP"], title="秋收", starts_at=now,
                            ends_at=now + timedelta(hours=11), capacity=5, checkin_code="123456", status="planned",
                            created_at=now)
        s.add(activity)
        await s.flush()
        s.add(ActivitySignup(activity_id=activity.id, volunteer_id=chat.ids["姜兆彤"], status="signed",
                             signed_at=now, checkin_at=now, checkout_at=now + timedelta(hours=11), hours=Decimal(11)))
        await s.commit()
    await _order(chat, "王大娘", "大棚里的黄瓜叶子发黄，想请农技员来指导")
    await chat.send("姜兆彤", "接单 #1")
    out = await chat.send("姜兆彤", "完成 #1 2小时")
    assert "您今天已报 11 小时" in chat.last_to("姜兆彤", out) and "最多还能报 1 小时" in chat.last_to("姜兆彤", out)
    assert chat.to("陈刚", out)  # the captain is asked
    await chat.send("姜兆彤", "完成 #1 1小时")  # within what is left: recorded at once
    async with chat.sessions() as s:
        assert Decimal((await s.get(Task, 1)).hours) == 1


async def test_the_cap_is_a_setting(chat) -> None:
    chat.engine.daily_cap = Decimal(2)
    await _order(chat, "王大娘")
    await chat.send("赵志愿", "接单 #1")
    assert "一天最多记 2 小时" in chat.last_to("赵志愿", await chat.send("赵志愿", "完成 #1 3小时"))


async def test_verifying_an_activity_leaves_out_whom_it_would_take_past_the_cap(chat) -> None:
    await _order(chat, "王大娘", "大棚里的黄瓜叶子发黄，想请农技员来指导")
    await chat.send("姜兆彤", "接单 #1")
    await chat.send("姜兆彤", "完成 #1 11小时")
    await chat.send("陈刚", "活动 今天上午10点 村文化广场 包饺子 限5人")
    await chat.send("陈刚", "确认")
    await chat.send("姜兆彤", "报名 #1")
    async with chat.sessions() as s:
        code = (await s.get(Activity, 1)).checkin_code
    chat.clock.advance(minutes=55)
    await chat.send("姜兆彤", f"签到 #1 {code}")
    chat.clock.advance(hours=2)
    await chat.send("姜兆彤", "签退 #1")
    out = await chat.send("陈刚", "核时 #1 全部")
    assert "超过每天的时长上限，没有核定：姜兆彤" in chat.last_to("陈刚", out)
    assert "最多还能记 1 小时" in chat.last_to("陈刚", await chat.send("陈刚", "核时 #1 姜兆彤 2小时"))
    out = await chat.send("陈刚", "核时 #1 姜兆彤 2小时 超时确认")
    assert "已核定" in chat.last_to("陈刚", out)
    async with chat.sessions() as s:
        audit = (await s.execute(select(AuditEntry).where(AuditEntry.action == "hours_over_cap"))).scalar_one()
        assert (audit.target_type, audit.target_id, audit.detail["volunteer_id"]) == \
            ("activity", 1, chat.ids["姜兆彤"])
        credited = (await s.execute(select(HoursEntry).where(HoursEntry.source_type == "activity_signup"))).scalar_one()
        assert Decimal(credited.hours) == 2
