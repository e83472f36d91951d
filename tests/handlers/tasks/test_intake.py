"""What a message is (issue 11): long requests are trimmed with a note, 代点单 reveals nothing, values said alone wait."""

from __future__ import annotations

from tests.handlers.tasks.conversation import draft_of, tasks


async def test_a_request_over_a_thousand_characters_is_trimmed_with_a_note(chat) -> None:
    text = "想请人帮俺家老头子理个发，" + "他腿脚不好出不了门" * 600
    out = await chat.send("王大娘", text)
    answer = chat.last_to("王大娘", out)
    assert answer.startswith(f"您的消息有 {len(text)} 个字，太长了，我只记下了前 1000 个字。")
    assert len((await draft_of(chat, "王大娘"))["description"]) == 1000
    await chat.send("王大娘", "确认")
    [task] = await tasks(chat)
    assert len(task.description) == 1000 and task.description.startswith("想请人帮俺家老头子理个发")


async def test_order_for_by_someone_without_the_right_reveals_nothing(chat) -> None:
    answers = set()
    for who in ("13900000001", "13999999999", "王大娘", "没这个人", "杨树村 周奶奶"):
        out = await chat.send("钱志愿", f"代点单 {who} 帮忙买点菜")
        answers.add(chat.last_to("钱志愿", out))
    assert answers == {"只有村/社区的管理员或驻村第一书记可以代居民点单。"}
    assert await tasks(chat) == [] and await draft_of(chat, "钱志愿") is None


async def test_a_time_said_first_waits_for_the_need(chat) -> None:
    out = await chat.send("王大娘", "明儿后晌")
    assert chat.last_to("王大娘", out) == "好的，记下了：时间 11月29日（明天）下午。请问需要什么帮助？"
    out = await chat.send("王大娘", "想请人帮俺家老头子理个发")
    text = chat.last_to("王大娘", out)
    assert "类别：助老助残" in text and "时间：11月29日（明天）下午" in text


async def test_a_phone_said_right_after_ordering_is_added_to_that_task(chat) -> None:
    await chat.send("王大娘", "想请人帮俺家老头子理个发")
    await chat.send("王大娘", "确认")
    out = await chat.send("王大娘", "电话是13912345678")
    assert chat.last_to("王大娘", out).startswith("已把您说的补充到任务 #1：电话是13912345678")
    assert len(await tasks(chat)) == 1


async def test_a_new_request_while_a_draft_is_open_replaces_it(chat) -> None:
    await chat.send("王大娘", "想请人帮俺家老头子理个发")
    out = await chat.send("王大娘", "院里的雪太厚了 找人来扫扫")
    assert "类别：生活帮扶" in chat.last_to("王大娘", out)
    assert (await draft_of(chat, "王大娘"))["description"] == "院里的雪太厚了 找人来扫扫"


async def test_wanting_to_cancel_just_after_ordering_offers_to_cancel_that_task(chat) -> None:
    await chat.send("王大娘", "想请人帮俺家老头子理个发")
    await chat.send("王大娘", "确认")
    out = await chat.send("王大娘", "俺想取消")
    assert chat.last_to("王大娘", out).startswith("是要取消您刚提交的任务 #1（助老助残）吗？")
    assert [b.data for b in out[-1].buttons] == ["取消 #1"]
    assert (await tasks(chat))[0].status != "cancelled"  # offered, not done
    out = await chat.send("王大娘", "取消 #1")
    assert chat.last_to("王大娘", out) == "任务 #1 已取消。"
    out = await chat.send("王大娘", "不要了")  # nothing left to cancel: a friendly word
    assert chat.last_to("王大娘", out).startswith("好的，那就先不麻烦了。")
