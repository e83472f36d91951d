"""A short conversation per data-map action (dashboard link, export) that makes it succeed.

`tests/handlers/test_actions.py` runs each and requires the action's audit row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the harness lives in conftest, which pytest imports itself
    from tests.conftest import ChatHarness



async def dashboard_link(chat: ChatHarness) -> None:
    out = await chat.send("中心管理员", "后台")
    assert "/dashboard/login?token=" in chat.last_to("中心管理员", out)


async def export(chat: ChatHarness) -> None:
    out = await chat.send("蓬莱站长", "导出 志愿者 csv")
    assert "见附件" in chat.last_to("蓬莱站长", out)
    assert [a.filename for m in out for a in m.attachments] == ["志愿者_蓬莱社区新时代文明实践站_2026-11-01至2026-11-28.csv"]


SCENARIOS: dict[str, Callable[[ChatHarness], Awaitable[None]]] = {
    "dashboard_link": dashboard_link,
    "export": export,
}
