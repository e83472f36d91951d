"""Small talk and closers are answered in a line and never become a draft (issue 11)."""

from __future__ import annotations

import pytest

from tests.handlers.tasks.conversation import draft_of, tasks


@pytest.mark.parametrize(("said", "answer"), [
    ("你好", "您好！我是新风志愿服务的小助手。"),
    ("谢谢", "不客气！"),
    ("谢谢你们啊 好人一生平安", "不客气！"),
    ("好的", "好的。有什么需要帮忙的"),
    ("不用了", "好的，那就先不麻烦了。"),
    ("算了", "好的，那就先不麻烦了。"),
    ("在吗", "您好！"),
    ("你们能干啥", "我是新风志愿服务的小助手，能帮您找志愿者上门帮忙"),
])
async def test_small_talk_gets_a_short_answer_and_no_draft(chat, said: str, answer: str) -> None:
    out = await chat.send("王大娘", said)
    assert chat.last_to("王大娘", out).startswith(answer)
    assert await draft_of(chat, "王大娘") is None
    out = await chat.send("王大娘", "1")  # a reflexive "1" afterwards submits nothing
    assert "已提交" not in chat.last_to("王大娘", out)
    assert await tasks(chat) == []


async def test_someone_not_registered_is_told_how_to_start(chat) -> None:
    out = await chat.send("新来的", "你好")
    assert "请先告诉我您住在哪个村或社区，发送：注册 村名" in chat.last_to("新来的", out)


async def test_small_talk_during_a_draft_leaves_the_draft_waiting(chat) -> None:
    await chat.send("王大娘", "俺腿脚不利索 想找人明天下午帮俺买点菜")
    out = await chat.send("王大娘", "你好")
    assert "您刚才说的需求还没提交" in chat.last_to("王大娘", out)
    assert (await draft_of(chat, "王大娘"))["ask"] == "category"


async def test_a_thanks_inside_a_confirmed_draft_does_not_submit_it(chat) -> None:
    await chat.send("王大娘", "想请人帮俺家老头子理个发")
    out = await chat.send("王大娘", "谢谢")
    assert "还没提交" in chat.last_to("王大娘", out)
    assert await tasks(chat) == []


async def test_empty_and_emoji_only_messages_get_a_polite_answer(chat) -> None:
    for said in ("", "   ", "🙏🙏"):
        out = await chat.send("王大娘", said)
        assert chat.last_to("王大娘", out)  # something kind, no crash
    assert await tasks(chat) == [] and await draft_of(chat, "王大娘") is None
