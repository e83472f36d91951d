"""A short conversation per activities action, for the audit test (tests/handlers/test_actions.py).

On conftest's small county: 陈刚 captains 科技服务队 (姜兆彤, 刘农技, 孙科技); the clock stands on
Saturday 2026-11-28 09:00 (Beijing). Each scenario makes its action run successfully once.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from handlers.activities.attendance import mark_no_shows_due

TODAY = "活动 今天上午10点 村文化广场 包饺子 限5人"


async def _publish(chat, text: str = TODAY) -> str:
    """Publish activity #1 as 陈刚; returns its check-in code, which the captain's answer shows."""
    await chat.send("陈刚", text)
    answer = chat.last_to("陈刚", await chat.send("陈刚", "确认"))
    found = re.search(r"已发布.*签到码：(\d{6})", answer, re.DOTALL)
    assert found, answer
    return found.group(1)


async def _checked_in(chat) -> str:
    """Activity #1 with 姜兆彤 signed up and checked in at 09:50."""
    code = await _publish(chat)
    await chat.send("姜兆彤", "报名 #1")
    chat.clock.advance(minutes=50)
    assert "签到成功" in chat.last_to("姜兆彤", await chat.send("姜兆彤", f"签到 #1 {code}"))
    return code


async def _checked_out(chat) -> None:
    await _checked_in(chat)
    chat.clock.advance(hours=2)
    assert "签退成功" in chat.last_to("姜兆彤", await chat.send("姜兆彤", "签退 #1"))


async def _no_show(chat) -> None:
    """Activity #1 with 刘农技 signed up and marked absent by the scheduled sweep."""
    await _publish(chat)
    await chat.send("刘农技", "报名 #1")
    chat.clock.advance(hours=1, minutes=30)
    async with chat.sessions() as s:
        assert await mark_no_shows_due(s, chat.clock.now()) == 1
        await s.commit()


async def _signup(chat) -> None:
    await _publish(chat)
    assert "报名成功" in chat.last_to("姜兆彤", await chat.send("姜兆彤", "报名 #1"))


async def _cancel(chat) -> None:
    await _signup(chat)
    assert "已取消" in chat.last_to("姜兆彤", await chat.send("姜兆彤", "取消报名 #1"))


async def _verify(chat) -> None:
    await _checked_out(chat)
    assert "已核定 姜兆彤" in chat.last_to("陈刚", await chat.send("陈刚", "核时 #1 姜兆彤"))


async def _correct(chat) -> None:
    await _verify(chat)
    assert "更正为 1 小时" in chat.last_to("陈刚", await chat.send("陈刚", "核时 #1 姜兆彤 1小时"))


async def _cancel_activity(chat) -> None:
    await _signup(chat)
    assert "已取消活动 #1" in chat.last_to("陈刚", await chat.send("陈刚", "取消活动 #1 下雨"))


async def _move_activity(chat) -> None:
    await _signup(chat)
    assert "已改到" in chat.last_to("陈刚", await chat.send("陈刚", "改期 #1 明天上午10点"))


async def _undo(chat) -> None:
    await _no_show(chat)
    assert "已撤销 刘农技" in chat.last_to("陈刚", await chat.send("陈刚", "撤销缺席 #1 刘农技"))


async def _unmute(chat) -> None:
    await chat.send("孙科技", "免打扰")
    assert "已开启私信通知" in chat.last_to("孙科技", await chat.send("孙科技", "开启通知"))


async def _beneficiaries(chat) -> None:
    await _publish(chat)
    assert "受益 30 人" in chat.last_to("陈刚", await chat.send("陈刚", "受益 #1 30人"))


def _says(name: str, text: str, answer: str) -> Callable[..., Awaitable[None]]:
    """A scenario that is one message, answered with `answer` (not a refusal)."""

    async def run(chat) -> None:
        assert answer in chat.last_to(name, await chat.send(name, text))

    return run


SCENARIOS: dict[str, Callable[..., Awaitable[None]]] = {
    "activity_create": _publish,
    "signup": _signup,
    "signup_cancel": _cancel,
    "checkin": _checked_in,
    "checkout": _checked_out,
    "verify_hours": _verify,
    "hours_correct": _correct,
    "activity_cancel": _cancel_activity,
    "activity_move": _move_activity,
    "undo_no_show": _undo,
    "no_show": _no_show,
    "broadcast": _says("陈刚", "广播 明天上午9点在村文化广场集合", "已广播到「科技服务队」"),
    "dm_opt_out": _says("孙科技", "免打扰", "已开启免打扰"),
    "dm_opt_in": _unmute,
    "project_create": _says("中心管理员", "项目 周末文化广场", "新建项目「周末文化广场」"),
    "record_beneficiaries": _beneficiaries,
    "moral_day_set": _says("中心管理员", "道德日 每月5日 8点", "已设置"),
}
