"""The draft conversation (issue 11): an unsure category is asked, a past time is asked, corrections amend.

On conftest's small county; the clock stands on Saturday 2026-11-28 09:00 Beijing.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.handlers.tasks.conversation import buttons_to, draft_of, examples, tasks

BEIJING = timezone(timedelta(hours=8))
UNSURE = "俺腿脚不利索 想找人明天下午帮俺买点菜"  # 生活帮扶 or 助老助残: the parser is not sure


async def test_an_unsure_request_asks_the_category_likeliest_first_and_the_choice_is_learned(chat) -> None:
    out = await chat.send("王大娘", UNSURE)
    text = chat.last_to("王大娘", out)
    assert "您要的是哪类帮助？" in text
    assert "类别：还没定（看着像「生活帮扶」或「助老助残」）" in text
    assert buttons_to(chat, "王大娘", out) == ["生活帮扶", "助老助残", "其他…", "确认", "取消"]
    assert (await draft_of(chat, "王大娘"))["ask"] == "category"

    out = await chat.send("王大娘", "2")  # the number of 助老助残, as WeChat and the console send it
    text = chat.last_to("王大娘", out)
    assert text.startswith("好的，类别：助老助残。\n请确认您的需求：")
    assert "类别：助老助残" in text
    assert buttons_to(chat, "王大娘", out) == ["确认", "取消"]
    assert await examples(chat) == [(UNSURE, "助老助残", "chosen", "生活帮扶")]
    assert await tasks(chat) == []  # choosing is no confirming

    out = await chat.send("王大娘", "1")
    assert "已提交！您的任务号是 #1。" in chat.last_to("王大娘", out)
    [task] = await tasks(chat)
    assert task.category == "助老助残"
    assert len(await examples(chat)) == 1  # the choice was the lesson; confirming adds none


async def test_one_never_sends_an_unsure_guess_it_picks_the_likeliest_kind(chat) -> None:
    await chat.send("王大娘", UNSURE)
    out = await chat.send("王大娘", "1")
    assert "类别：生活帮扶" in chat.last_to("王大娘", out)
    assert await tasks(chat) == []


async def test_with_nothing_likely_every_category_is_offered_and_other_last(chat) -> None:
    out = await chat.send("王大娘", "俺家有点事 想找个人")
    labels = buttons_to(chat, "王大娘", out)
    assert len(labels) == 14 and labels[-3:] == ["其他", "确认", "取消"]  # the twelve categories, then 确认, 取消
    assert "类别：还没定" in chat.last_to("王大娘", out)
    out = await chat.send("王大娘", "12")  # 其他: the station arranges it
    assert "类别：其他" in chat.last_to("王大娘", out)
    await chat.send("王大娘", "确认")
    assert [t.category for t in await tasks(chat)] == ["其他"]
    assert (await examples(chat))[0][1:3] == ("其他", "chosen")


async def test_other_opens_every_category(chat) -> None:
    for opener in ("3", "其他…"):  # its number, or its label typed
        await chat.send("王大娘", UNSURE)
        out = await chat.send("王大娘", opener)
        labels = buttons_to(chat, "王大娘", out)
        assert labels[:2] == ["生活帮扶", "助老助残"] and labels[-3:] == ["其他", "确认", "取消"] and len(labels) == 14
    assert "所有的类别都在下面了" in chat.last_to("王大娘", out)


async def test_a_confident_guess_is_shown_in_the_draft_and_confirming_teaches_it(chat) -> None:
    out = await chat.send("王大娘", "想请人帮俺家老头子理个发")
    text = chat.last_to("王大娘", out)
    assert "类别：助老助残" in text and "哪类帮助" not in text
    assert buttons_to(chat, "王大娘", out) == ["确认", "取消"]
    await chat.send("王大娘", "1")
    assert await examples(chat) == [("想请人帮俺家老头子理个发", "助老助残", "confirmed", "助老助残")]


async def test_a_correction_inside_a_draft_amends_the_time_and_keeps_the_rest(chat) -> None:
    await chat.send("王大娘", "明天下午需要两个人帮俺家搬个大衣柜 地点：上三楼")
    first = await draft_of(chat, "王大娘")
    assert first["people"] == 2 and first["place"] is None  # "上三楼" is no place
    out = await chat.send("王大娘", "不对不对 是礼拜天上午")
    text = chat.last_to("王大娘", out)
    assert text.startswith("好的，已改时间。")
    assert "时间：11月29日（明天）上午" in text and "人数：需要 2 人" in text
    assert "内容：明天下午需要两个人帮俺家搬个大衣柜 地点：上三楼" in text
    assert "地点：" not in text.split("内容：")[1].split("\n", 1)[1]  # no 地点 line of its own
    await chat.send("王大娘", "确认")
    [task] = await tasks(chat)
    assert task.volunteers_needed == 2 and task.place is None
    assert task.wanted_start.astimezone(BEIJING).replace(tzinfo=None) == datetime(2026, 11, 29, 7, 0)


async def test_corrections_name_the_people_and_the_phone(chat) -> None:
    await chat.send("王大娘", "明天帮忙搬点煤")
    out = await chat.send("王大娘", "要三个人")
    assert "人数：需要 3 人" in chat.last_to("王大娘", out)
    out = await chat.send("王大娘", "电话是13912345678")
    text = chat.last_to("王大娘", out)
    assert "电话：13912345678" in text and "人数：需要 3 人" in text
    await chat.send("王大娘", "1")
    [task] = await tasks(chat)
    assert (task.volunteers_needed, task.phone, task.description) == (3, "13912345678", "明天帮忙搬点煤")


async def test_a_time_already_over_is_asked_about_never_moved(chat) -> None:
    chat.clock.set(datetime(2026, 11, 28, 21, 58, tzinfo=BEIJING))
    out = await chat.send("王大娘", "今天晚上八点想找人帮忙修下灯")
    assert chat.last_to("王大娘", out) == "今晚8点已经过了，改成明晚8点可以吗？"
    assert buttons_to(chat, "王大娘", out) == ["是", "不是"]
    out = await chat.send("王大娘", "是")
    text = chat.last_to("王大娘", out)
    assert text.startswith("好的，时间改成明晚8点。") and "时间：11月29日（明天）晚上8点" in text
    await chat.send("王大娘", "确认")
    [task] = await tasks(chat)
    assert task.wanted_start.astimezone(BEIJING).replace(tzinfo=None) == datetime(2026, 11, 29, 20, 0)


async def test_no_to_the_time_question_leaves_the_time_to_agree(chat) -> None:
    chat.clock.set(datetime(2026, 11, 28, 21, 58, tzinfo=BEIJING))
    await chat.send("王大娘", "今天晚上八点想找人帮忙修下灯")
    out = await chat.send("王大娘", "不是")
    assert "时间：尽快 / 待商定" in chat.last_to("王大娘", out)
    await chat.send("王大娘", "1")
    assert (await tasks(chat))[0].wanted_start is None


async def test_closers_inside_a_draft_drop_it_and_one_then_submits_nothing(chat) -> None:
    for closer in ("不用了", "算了", "取消"):
        await chat.send("王大娘", "想请人帮俺家老头子理个发")
        out = await chat.send("王大娘", closer)
        assert chat.last_to("王大娘", out) == "好的，已取消。需要帮助时随时告诉我。"
        assert await draft_of(chat, "王大娘") is None
        out = await chat.send("王大娘", "1")
        assert "已提交" not in chat.last_to("王大娘", out)
    assert await tasks(chat) == [] and await examples(chat) == []


async def test_an_address_with_numbers_is_no_date(chat) -> None:
    out = await chat.send("王大娘", "俺家住3号楼2单元501 明儿晚上八点以后家里有人 帮忙修下灯")
    text = chat.last_to("王大娘", out)
    assert "时间：11月29日（明天）晚上8点" in text and "地址：3号楼2单元501" in text


async def test_a_yes_to_which_kind_chooses_nothing_and_asks_again(chat) -> None:
    await chat.send("王大娘", UNSURE)
    for yes in ("好的", "嗯"):
        out = await chat.send("王大娘", yes)
        assert chat.last_to("王大娘", out).startswith("请点一下是哪一类帮助（或回复它前面的序号）：")
        assert buttons_to(chat, "王大娘", out)[0] == "生活帮扶"
    assert await tasks(chat) == []
    await chat.send("王大娘", "确认")  # said outright: sent as guessed
    assert [t.category for t in await tasks(chat)] == ["生活帮扶"]
    assert await examples(chat) == [(UNSURE, "生活帮扶", "confirmed", "生活帮扶")]


async def test_people_needed_are_capped_at_ten(chat) -> None:
    out = await chat.send("王大娘", "明天需要二十个人帮忙扫村里的雪")
    assert "人数：需要 10 人" in chat.last_to("王大娘", out)
