"""Changes reach everyone concerned (issue 14 point 4): release, cancel, re-dispatch, low ratings, own orders."""

from __future__ import annotations

from sqlalchemy import delete, select

from scheduler.runner import run_due
from storage.models import AuditEntry, OutboxMessage, RoleGrant, Task, TeamGroup

HAIRCUT = "奶奶八十多了，想请人来帮忙理个发"


async def _bind_group(chat, team: str, chat_id: str) -> None:
    async with chat.sessions() as s:
        s.add(TeamGroup(team_id=chat.ids[team], platform="test", chat_id=chat_id, title=f"{team}群"))
        await s.commit()


async def _group_rows(chat, chat_id: str) -> list[OutboxMessage]:
    async with chat.sessions() as s:
        return list((await s.execute(select(OutboxMessage).where(OutboxMessage.address == chat_id)
                                     .order_by(OutboxMessage.id))).scalars())


async def _order(chat, text: str = HAIRCUT, who: str = "王大娘") -> None:
    await chat.send(who, text)
    await chat.send(who, "确认")


async def test_a_release_tells_the_villager_and_the_team_and_restarts_the_clock(chat) -> None:
    await _order(chat)
    await chat.send("赵志愿", "接单 #1")
    out = await chat.send("赵志愿", "放弃 #1")
    assert "原来的志愿者有事去不了，正在重新找人" in chat.last_to("王大娘", out)
    assert "又空出来了" in chat.last_to("钱志愿", out)
    assert not [t for t in chat.to("赵志愿", out) if "又空出来了" in t]
    chat.clock.advance(hours=2)  # nobody took it back: it climbs like any other task
    assert (await run_due(chat.sessions, chat.clock.now()))["escalate"] == 1


async def test_a_cancel_after_the_card_went_to_a_group_withdraws_it_everywhere(chat) -> None:
    await _bind_group(chat, "PLD", "g-pl")
    await _order(chat)
    card = (await _group_rows(chat, "g-pl"))[0]
    assert card.kind == "notice" and card.buttons[0]["data"] == "接单 #1"
    out = await chat.send("王大娘", "取消 #1")
    assert "已取消" in chat.last_to("王大娘", out)
    for volunteer in ("赵志愿", "钱志愿"):  # each was sent the offer directly
        assert "任务 #1 已被取消，不用再接了" in chat.last_to(volunteer, out)
    edit = (await _group_rows(chat, "g-pl"))[-1]
    assert edit.kind == "edit" and edit.text.endswith("❌ 任务已取消") and edit.buttons == []


async def test_an_admin_cancel_after_accept_tells_the_volunteer_the_others_and_the_villager(chat) -> None:
    await _order(chat)
    await chat.send("赵志愿", "接单 #1")
    out = await chat.send("中心管理员", "取消 #1")
    assert "不用再去了" in chat.last_to("赵志愿", out)
    assert "不用再接了" in chat.last_to("钱志愿", out)
    assert "已由管理员取消" in chat.last_to("王大娘", out)


async def test_a_redispatch_withdraws_the_old_teams_cards(chat) -> None:
    await _bind_group(chat, "PLD", "g-pl")
    await _bind_group(chat, "ZH", "g-zh")
    await _order(chat)
    out = await chat.send("中心管理员", "派单 #1 城关综合服务分队")
    assert "已把任务 #1 派给「城关综合服务分队」" in chat.last_to("中心管理员", out)
    edit = (await _group_rows(chat, "g-pl"))[-1]
    assert edit.kind == "edit" and edit.text.endswith("🔄 已改派给其他队伍") and edit.buttons == []
    assert (await _group_rows(chat, "g-zh"))[-1].buttons[0]["data"] == "接单 #1"
    assert "已改派给其他队伍，不用再接了" in chat.last_to("钱志愿", out)
    # 赵志愿 is in both teams: he is offered it again, not told to drop it.
    assert not [t for t in chat.to("赵志愿", out) if "不用再接了" in t]


async def test_dispatching_to_the_team_that_already_has_it_is_refused_politely(chat) -> None:
    await _bind_group(chat, "ZH", "g-zh")
    await _order(chat)
    await chat.send("中心管理员", "派单 #1 城关综合服务分队")
    cards = len(await _group_rows(chat, "g-zh"))
    out = await chat.send("中心管理员", "派单 #1 城关综合服务分队")
    assert "已经派给「城关综合服务分队」了，正在等队员接单" in chat.last_to("中心管理员", out)
    assert len(await _group_rows(chat, "g-zh")) == cards
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.outcome == "refused"))).scalar_one()
    assert (refused.action, refused.target_id) == ("dispatch", 1)


async def test_a_low_rating_with_a_complaint_reaches_the_station_admin(chat) -> None:
    await _order(chat)
    await chat.send("赵志愿", "接单 #1")
    await chat.send("赵志愿", "完成 #1 1小时")
    out = await chat.send("王大娘", "评价 #1 1 来了就走 没理完")
    note = chat.last_to("蓬莱站长", out)
    assert "收到 ★ 评价，留言：来了就走 没理完" in note and "赵志愿" in note
    assert "来了就走" in chat.last_to("赵志愿", out)


async def test_without_a_station_admin_a_complaint_goes_to_the_nearest_admin_up(chat) -> None:
    async with chat.sessions() as s:
        await s.execute(delete(RoleGrant).where(RoleGrant.person_id == chat.ids["蓬莱站长"]))
        await s.commit()
    await _order(chat)
    await chat.send("赵志愿", "接单 #1")
    await chat.send("赵志愿", "完成 #1 1小时")
    out = await chat.send("王大娘", "评价 #1 2 迟到了两个小时")
    assert "收到 ★★ 评价" in chat.last_to("城关所长", out)


async def test_a_good_rating_troubles_no_admin(chat) -> None:
    await _order(chat)
    await chat.send("赵志愿", "接单 #1")
    await chat.send("赵志愿", "完成 #1 1小时")
    out = await chat.send("王大娘", "评价 #1 5 很好")
    assert not chat.to("蓬莱站长", out)


async def test_a_volunteer_cannot_accept_what_they_ordered(chat) -> None:
    await _order(chat, "想请人帮着给家里老人理个发", who="赵志愿")
    out = await chat.send("赵志愿", "接单 #1")
    assert "是您自己点的单，不能自己接" in chat.last_to("赵志愿", out)
    async with chat.sessions() as s:
        assert (await s.get(Task, 1)).accepted_count == 0
    assert "接单成功" in chat.last_to("钱志愿", await chat.send("钱志愿", "接单 #1"))
