"""A volunteer's own words about their task map to the command, offered, never done on a guess (issue 11)."""

from __future__ import annotations

from tests.handlers.tasks.conversation import buttons_to, draft_of, tasks


async def _accepted(chat) -> None:
    """Task #1 (助老助残, 蓬莱社区) accepted by 赵志愿."""
    await chat.send("王大娘", "想请人帮俺家老头子理个发")
    await chat.send("王大娘", "确认")
    assert "接单成功" in chat.last_to("赵志愿", await chat.send("赵志愿", "接单 #1"))


async def test_done_offers_completion_with_hours_to_choose(chat) -> None:
    await _accepted(chat)
    out = await chat.send("赵志愿", "干完了")
    assert chat.last_to("赵志愿", out).startswith("是要报告任务 #1（助老助残）完成吗？请发：完成 #1 小时数")
    assert buttons_to(chat, "赵志愿", out) == ["1小时", "2小时", "3小时", "4小时"]
    assert (await tasks(chat))[0].status == "accepted"  # offered, not done
    assert await draft_of(chat, "赵志愿") is None


async def test_cannot_go_tomorrow_offers_release(chat) -> None:
    await _accepted(chat)
    out = await chat.send("赵志愿", "俺明天去不了了")
    assert chat.last_to("赵志愿", out).startswith("是要放弃任务 #1（助老助残）吗？")
    assert buttons_to(chat, "赵志愿", out) == ["放弃"]
    out = await chat.send("赵志愿", "放弃 #1")
    assert (await tasks(chat))[0].status != "accepted"


async def test_a_volunteer_with_no_task_is_told_so(chat) -> None:
    out = await chat.send("钱志愿", "干完了")
    assert chat.last_to("钱志愿", out) == "您现在手上没有进行中的任务。查看您的任务请发：我的"
    assert await draft_of(chat, "钱志愿") is None


async def test_me_too_after_an_activity_card_offers_signup(chat) -> None:
    await chat.send("陈刚", "活动 明天上午10点 村文化广场 包饺子 限5人")
    await chat.send("陈刚", "确认")
    for who in ("刘农技", "陈刚"):  # a member who got the card, and the captain himself
        out = await chat.send(who, "我也报名")
        assert chat.last_to(who, out).startswith("是要报名")
        assert "包饺子" in chat.last_to(who, out)
        assert await draft_of(chat, who) is None
    out = await chat.send("刘农技", "报名 #1")
    assert "报名成功" in chat.last_to("刘农技", out)
