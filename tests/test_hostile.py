"""Hostile input (issue 12): every chat command × a list of nasty arguments, through the engine.

Every command the bot knows is taken from `handlers.app`'s routers (one name per handler), and
sent with each argument below by a county admin and by a volunteer, on a county with a task, an
activity and a wish to aim at. For each: nothing crashes (no inbox row fails, nobody gets the
generic apology), the sender gets a specific reply, and nothing stored is beyond its column's
bounds (SQLite does not enforce `varchar(n)`, so the columns are measured; no NUL is stored).
The channel edge strips control characters later; the engine must survive them on its own.
"""

from __future__ import annotations

import pytest
from sqlalchemy import String, select

from handlers.app import build_dispatcher
from handlers.core.engine import SORRY
from storage.models import InboxMessage, metadata
from storage.models.bounds import TEXT_LIMIT

NASTY: dict[str, str] = {
    "empty": "",
    "100KB": "测" * 34_000,
    "NUL": "#1\x00\x00杨家村\x00",
    "RTL": "\u202e#1 \u200f杨家村\u202d",
    "emoji": "👨‍👩‍👧‍👦🔥 #1 🙂",
    "formula": '=HYPERLINK("http://evil.example/steal","帮忙理发")',
    "formula+": "+1 -1 @SUM(A1)",
    "HTML": "<script>alert(1)</script><b>#1</b>",
    "SQL": "1'; DROP TABLE people; -- ' OR '1'='1",
    "huge": "#99999999999999999999 99999999999999999999",
    "huge400": "#" + "9" * 400,
    "negative": "#-1 -5",
    "numerals": "#" + "万" * 3000,
    "numerals2": "一" * 3000 + "号 " + "两" * 3000 + "小时",
    "far dates": "工时 1900-01-01 9999-12-31",
    "far dates2": "#1 9999年12月31日上午9点 0001-01-01",
    "place": "#1 " + "杨" * 251,
}


def _commands() -> dict[str, str]:
    """One name per command handler, as the routers register them, keyed "router.handler" (the test id)."""
    seen: dict[str, str] = {}
    for router in build_dispatcher().routers:
        for command in router.commands:
            seen.setdefault(f"{router.name}.{command.handler.__name__}", command.name)
    return seen


COMMANDS = _commands()
PEOPLE = ("中心管理员", "赵志愿")


async def _stage(chat) -> None:
    """A task (#1, offered to 蓬莱社区's team), an activity (#1) and a wish (#1) to aim the arguments at."""
    await chat.send("王大娘", "奶奶八十多了，想请人来帮忙理个发")
    await chat.send("王大娘", "确认")
    await chat.send("陈刚", "活动 今天上午10点 村文化广场 包饺子 限5人")
    await chat.send("陈刚", "确认")
    await chat.send("蓬莱站长", "心愿 王大娘 想要一台收音机")


async def _out_of_bounds(chat) -> list[str]:
    """Every stored text longer than its column, or holding a NUL: "table.column #id (length)"."""
    found: list[str] = []
    async with chat.sessions() as s:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type.impl if hasattr(c.type, "impl") else c.type,
                                                               String)]
            for column in columns:
                limit = getattr(column.type, "limit", None) or TEXT_LIMIT
                rows = (await s.execute(select(column).where(column.is_not(None)))).scalars().all()
                for value in rows:
                    if isinstance(value, str) and (len(value) > limit or "\x00" in value):
                        found.append(f"{table.name}.{column.name} ({len(value)})")
    return found


@pytest.mark.parametrize("handler", sorted(COMMANDS))
async def test_a_command_survives_every_nasty_argument(chat, handler: str) -> None:
    command = COMMANDS[handler]
    await _stage(chat)
    problems: list[str] = []
    for who in PEOPLE:
        for label, arg in NASTY.items():
            text = f"{command} {arg}".strip()
            out = await chat.send(who, text)
            mine = chat.to(who, out)
            if any(SORRY in m.text for m in out):
                problems.append(f"{who} {command} [{label}]: the generic apology")
            elif not mine:
                problems.append(f"{who} {command} [{label}]: no reply")
    async with chat.sessions() as s:
        failed = (await s.execute(select(InboxMessage.error).where(InboxMessage.status == "failed"))).scalars().all()
    problems += [f"failed inbox row: {e[:300]}" for e in failed]
    problems += [f"beyond bounds: {where}" for where in await _out_of_bounds(chat)]
    assert not problems, "\n".join(problems)
