"""我的: one look at my own numbers — and, as it is sent most, in one transaction of few statements."""

from __future__ import annotations

import re

from sqlalchemy import event, func, select

from handlers.core.messages import InboundMessage
from storage.models import Task
from storage.models.points import PointsAccount


async def _counted_me(chat, name: str) -> tuple[str, list[str], int]:
    """Send 我的 straight to the engine (no harness bookkeeping): the reply, its SQL and its commits."""
    pid = await chat.person_id(name)
    engine = chat.sessions.kw["bind"].sync_engine
    statements: list[str] = []
    commits: list[int] = []

    def statement(_conn, _cursor, sql, *_args) -> None:
        statements.append(sql)

    def commit(_conn) -> None:
        commits.append(1)

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        chat._seq += 1
        rows = await chat.engine.handle(InboundMessage(platform="test", user_id=f"u{pid}", chat_id=f"u{pid}",
                                                       text="我的", message_id=f"me{chat._seq}", user_name=name))
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    assert rows is not None and len(rows) == 1
    return rows[0].text, statements, len(commits)


async def test_me_shows_orders_tasks_hours_and_points_in_one_transaction_of_at_most_six_statements(chat) -> None:
    await chat.send("王大娘", "奶奶八十多了，想请人来帮忙理个发")
    await chat.send("王大娘", "确认")
    async with chat.sessions() as s:
        task_id = (await s.execute(select(func.max(Task.id)))).scalar_one()
    await chat.send("赵志愿", f"接单 #{task_id}")
    await chat.send("赵志愿", f"完成 #{task_id} 2小时")
    await chat.send("王大娘", f"评价 #{task_id} 5")
    await chat.send("王大娘", "想找人帮忙打扫一下院子")
    await chat.send("王大娘", "确认")

    text, statements, commits = await _counted_me(chat, "赵志愿")
    assert "志愿时长：2 小时（1 次服务）" in text
    assert re.search(r"积分：2（兑换码 [A-Z0-9]{6}", text), text
    assert len(statements) <= 6 and commits == 1, statements
    # The reply is written before the inbox row, which stays the last write before the commit.
    assert statements[-1].startswith("INSERT INTO inbox") and "INSERT INTO outbox" in statements[-2], statements

    text, statements, commits = await _counted_me(chat, "王大娘")
    assert "我点的服务：" in text and f"#{task_id}" in text
    # Newest first: the second order is listed before the first.
    assert text.index(f"#{task_id + 1}") < text.index(f"#{task_id}【"), text
    assert "积分" not in text  # a resident with no points gets no points line
    assert len(statements) <= 6 and commits == 1, statements


async def test_a_volunteers_first_me_opens_their_points_account(chat) -> None:
    text, statements, commits = await _counted_me(chat, "赵志愿")
    assert re.search(r"积分：0（兑换码 [A-Z0-9]{6}", text), text
    # Opened with one INSERT in the update's transaction (no extra read, no savepoint).
    assert commits == 1 and len(statements) <= 7 and not any("SAVEPOINT" in s for s in statements), statements
    async with chat.sessions() as s:
        code = (await s.execute(select(PointsAccount.code)
                                .where(PointsAccount.person_id == chat.ids["赵志愿"]))).scalar_one()
    assert f"兑换码 {code}" in text
    text, statements, _ = await _counted_me(chat, "赵志愿")  # the account is read, not opened again
    assert f"兑换码 {code}" in text and not any("INSERT INTO points_accounts" in s for s in statements)
