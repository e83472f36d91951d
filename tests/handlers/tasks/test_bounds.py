"""Every input bounded (issue 12): each of the issue's inputs gets a specific, polite answer, and no inbox row fails.

Run on SQLite and, when configured, PostgreSQL — which rejects NUL bytes and enforces
varchar(n), where SQLite silently stores anything.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.core.engine import SORRY
from storage.models import InboxMessage, Task


async def _no_failure(chat) -> None:
    async with chat.sessions() as s:
        statuses = {m.status for m in (await s.execute(select(InboxMessage))).scalars()}
    assert "failed" not in statuses, statuses


async def test_a_100kb_request_is_trimmed_with_a_note(chat) -> None:
    out = await chat.send("王大娘", "奶奶八十多了，想请人来帮忙理个发。" + "她腿脚不便。" * 17_000)
    reply = chat.last_to("王大娘", out)
    assert SORRY not in reply and len(reply) < 3_000 and "太长了" in reply
    out = await chat.send("王大娘", "确认")
    assert all(len(m.text) < 3_000 for m in out)
    async with chat.sessions() as s:
        task = await s.get(Task, 1)
    assert task is not None and len(task.description) <= 1_000
    await _no_failure(chat)


async def test_nul_bytes_are_dropped_before_the_database(chat) -> None:
    await chat.send("王大娘", "奶奶八十多了，\x00想请人来帮忙\x00理个发")
    out = await chat.send("王大娘", "确认")
    assert SORRY not in chat.last_to("王大娘", out)
    async with chat.sessions() as s:
        task = await s.get(Task, 1)
    assert task is not None and "\x00" not in task.description and "理个发" in task.description
    await _no_failure(chat)


@pytest.mark.parametrize("text", [
    "接单 #99999999999999999999",
    "取消 #" + "9" * 400,
    "接单 #" + "万" * 3000,
    "完成 #1 " + "两" * 3000 + "小时",
    "心愿 #99999999999999999999",
    "同意绑定 #99999999999999999999",
    "活动 #-1",
])
async def test_numbers_nobody_writes_get_a_specific_answer(chat, text: str) -> None:
    out = await chat.send("赵志愿", text)
    reply = chat.last_to("赵志愿", out)
    assert SORRY not in reply and reply.strip()
    await _no_failure(chat)


async def test_a_huge_task_number_is_no_such_task(chat) -> None:
    reply = chat.last_to("赵志愿", await chat.send("赵志愿", "接单 #99999999999999999999"))
    assert "没有" in reply and "任务" in reply


async def test_absurd_export_dates_are_answered(chat) -> None:
    reply = chat.last_to("中心管理员", await chat.send("中心管理员", "导出 工时 1900-01-01 9999-12-31"))
    assert SORRY not in reply and "日期" in reply
    await _no_failure(chat)
