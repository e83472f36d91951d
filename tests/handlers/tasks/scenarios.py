"""A short conversation per task action, for the audit test (tests/handlers/test_actions.py).

On conftest's small county: 王大娘 lives at 蓬莱社区, whose team (蓬莱社区志愿服务队: 赵志愿,
钱志愿) does elder care; 中心管理员 administers the whole county. The scheduler's actions run
through their jobs, on the harness's clock, in a session that commits like the runner's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers.tasks.confirmations import auto_confirm_due
from handlers.tasks.dispatch import escalate_due
from tests.handlers.tasks.voices import send_media

ELDER_CARE = "奶奶八十多了，想请人来帮忙理个发"


async def _order(chat) -> None:
    await chat.send("王大娘", ELDER_CARE)
    out = await chat.send("王大娘", "确认")
    assert "任务号是 #1" in chat.last_to("王大娘", out)


async def _dispatch(chat) -> None:
    await _order(chat)
    out = await chat.send("中心管理员", "派单 #1 城关综合服务分队")
    assert "已把任务 #1 派给" in chat.last_to("中心管理员", out)


async def _accept(chat) -> None:
    await _order(chat)
    out = await chat.send("赵志愿", "接单 #1")
    assert "接单成功" in chat.last_to("赵志愿", out)


async def _release(chat) -> None:
    await _accept(chat)
    out = await chat.send("赵志愿", "放弃 #1")
    assert "已放弃" in chat.last_to("赵志愿", out)


async def _complete(chat) -> None:
    await _accept(chat)
    out = await chat.send("赵志愿", "完成 #1 2小时")
    assert "已报告完成" in chat.last_to("赵志愿", out)


async def _rate(chat) -> None:
    await _complete(chat)
    out = await chat.send("王大娘", "评价 #1 5 很满意")
    assert "谢谢您的评价" in chat.last_to("王大娘", out)


async def _cancel(chat) -> None:
    await _order(chat)
    out = await chat.send("王大娘", "取消 #1")
    assert "已取消" in chat.last_to("王大娘", out)


async def _amend(chat) -> None:
    out = await chat.send("王大娘", "俺老伴摔了一跤 腿动不了了 快来人")
    assert "120" in chat.to("王大娘", out)[0]  # an emergency: no draft, the task exists at once
    out = await chat.send("王大娘", "在3号楼2单元501 门开着")
    assert "已把您说的补充到任务 #1" in chat.last_to("王大娘", out)


async def _run(chat, job: Callable[..., Awaitable[int]]) -> int:
    """Run a scheduler job at the harness's now, committing what it did (as scheduler/runner.py does)."""
    async with chat.sessions() as session:
        done = await job(session, chat.clock.now())
        await session.commit()
    return done


async def _escalate(chat) -> None:
    await _order(chat)
    chat.clock.advance(hours=2)
    assert await _run(chat, escalate_due) == 1  # station → institute


async def _escalate_report(chat) -> None:
    await _escalate(chat)
    chat.clock.advance(hours=4)
    assert await _run(chat, escalate_due) == 1  # institute → center
    chat.clock.advance(hours=24)
    assert await _run(chat, escalate_due) == 1  # still nobody at the center: the daily report


async def _auto_confirm(chat) -> None:
    await _complete(chat)
    chat.clock.advance(hours=72)
    assert await _run(chat, auto_confirm_due) == 1


async def _recategorise(chat) -> None:
    await _order(chat)
    out = await chat.send("中心管理员", "改类别 #1 卫生健康")
    assert "类别从「助老助残」改为「卫生健康」" in chat.last_to("中心管理员", out)


async def _call_back(chat) -> None:
    out = await send_media(chat, "王大娘")  # a voice message with no words
    assert "请给她/他回个电话" in chat.last_to("蓬莱站长", out)


async def _hours_over_cap(chat) -> None:
    await _accept(chat)
    out = await chat.send("赵志愿", "完成 #1 14小时")
    assert "一天最多记 12 小时" in chat.last_to("赵志愿", out)
    out = await chat.send("蓬莱站长", "核准时长 #1 赵志愿 14小时")
    assert "已核准" in chat.last_to("蓬莱站长", out)


SCENARIOS: dict[str, Callable[..., Awaitable[None]]] = {
    "hours_over_cap": _hours_over_cap,
    "order": _order,
    "dispatch": _dispatch,
    "accept": _accept,
    "release": _release,
    "complete": _complete,
    "rate": _rate,
    "cancel": _cancel,
    "amend": _amend,
    "escalate": _escalate,
    "escalate_report": _escalate_report,
    "auto_confirm": _auto_confirm,
    "recategorise": _recategorise,
    "call_back": _call_back,
}
