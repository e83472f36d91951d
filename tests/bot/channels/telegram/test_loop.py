"""The whole 点单→派单→接单→完成→评单 loop on Telegram, through the fake Bot API, polling and webhook.

A resident orders in a private chat; the task appears in the team's bound group with a
button; two members press it at once and exactly one wins; the group card is edited to show
who took it; the winner completes by button and the resident rates by button.
"""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import AuditEntry, HoursEntry, Task, TaskAssignment, TeamGroup

GROUP = -100_555


async def test_the_whole_loop_by_buttons(tg_any) -> None:
    tg = tg_any
    fake = tg.fake
    # Everyone links their Telegram account to the roster by sharing their own contact.
    await tg.link("王大娘", "陈刚", "姜兆彤", "刘农技")
    assert "陈刚（科技服务队）" in tg.last_to("陈刚").text

    # The captain binds the team's group.
    fake.add_group(GROUP, "北票科技服务队")
    out = await tg.say("陈刚", "/bindgroup@xinfeng_test_bot", group=GROUP)
    assert [m.chat_id for m in out] == [GROUP] and "已绑定为「科技服务队」" in out[0].text
    async with tg.chat.sessions() as s:
        assert (await s.execute(select(TeamGroup.chat_id))).scalar_one() == str(GROUP)

    # The resident orders; her own words are shown back exactly, escaped on the wire.
    out = await tg.say("王大娘", "大棚里的黄瓜叶子发黄 <急> & 想请农技员明天上午来指导，电话13900000001")
    draft = tg.last_to("王大娘")
    assert "请确认您的需求" in draft.text and "<急> & 想请农技员" in draft.text
    assert draft.buttons() == [("确认", "确认"), ("取消", "取消")]

    out, answer = await tg.press("王大娘", draft, "确认")
    assert "任务号是 #1" in tg.last_to("王大娘").text and "科技服务队" in tg.last_to("王大娘").text
    assert answer["text"].startswith("已提交") and not answer["show_alert"]
    assert draft.reply_markup is None  # the choice is made: the buttons are gone
    card = fake.sent_to(GROUP)[-1]
    assert "📋 新任务 #1【农业技术】" in card.text and "13900000001" not in card.text
    assert card.buttons() == [("接单", "接单 #1")]

    # Two members press 「接单」 in the group at the same moment: exactly one wins.
    answered = set(fake.callback_answers)
    tg.channel.stats["max_parallel"] = 0
    fake.press(tg.user_id("姜兆彤"), card, "接单")
    fake.press(tg.user_id("刘农技"), card, "接单")
    await tg.settle()
    if tg.mode == "polling":
        # Both presses arrive in one getUpdates batch, so they are handled side by side. Two
        # webhook POSTs may or may not overlap on a loaded machine; the race result below is
        # asserted in both modes.
        assert tg.channel.stats["max_parallel"] == 2
    async with tg.chat.sessions() as s:
        winners = (await s.execute(select(TaskAssignment.volunteer_id).where(TaskAssignment.active.is_(True)))).scalars().all()
        assert len(winners) == 1
        task = await s.get(Task, 1)
        assert task.status == "accepted" and task.accepted_count == 1
    winner = "姜兆彤" if winners[0] == tg.chat.ids["姜兆彤"] else "刘农技"
    loser = "刘农技" if winner == "姜兆彤" else "姜兆彤"
    answers = [fake.callback_answers[k] for k in fake.callback_answers if k not in answered]
    assert len(answers) == 2 and all(a["show_alert"] for a in answers)
    assert sorted("已经有人接了" in a["text"] for a in answers) == [False, True]
    # The loser's "taken" goes to them alone, not into the group; the phone stays out of the group.
    assert all("已经有人接了" not in m.text and "13900000001" not in m.text for m in fake.sent_to(GROUP))
    # The card now says who took it, and offers nothing more.
    assert f"✅ 已由 {winner} 接单" in card.text and card.reply_markup is None and card.edits
    private = tg.last_to(winner)
    assert "接单成功" in private.text and "13900000001" in private.text
    assert "好消息！志愿者" in tg.last_to("王大娘").text and winner in tg.last_to("王大娘").text
    assert "接单成功" not in tg.last_to(loser).text

    # Completion by button: the card's 「完成」, then how long.
    out, answer = await tg.press(winner, private, "完成")
    hours_prompt = tg.last_to(winner)
    assert "服务了多长时间" in hours_prompt.text and answer["text"].startswith("任务 #1 服务了多长时间")
    out, _ = await tg.press(winner, hours_prompt, "2小时")
    assert "辛苦了" in tg.last_to(winner).text
    rating = tg.last_to("王大娘")
    assert "请为这次服务打分" in rating.text and ("★★★★★", "评价 #1 5") in rating.buttons()

    out, answer = await tg.press("王大娘", rating, "★★★★★")
    assert "谢谢您的评价（★★★★★）" in tg.last_to("王大娘").text
    assert "已为您记入 2 小时" in tg.last_to(winner).text
    assert rating.reply_markup is None

    async with tg.chat.sessions() as s:
        task = await s.get(Task, 1)
        assert task.status == "closed" and task.rating == 5
        assert (await s.execute(select(func.sum(HoursEntry.hours)))).scalar_one() == 2
        actions = set((await s.execute(select(AuditEntry.action))).scalars())
        assert {"link_identity", "bind_group", "order", "dispatch", "accept", "complete", "rate"} <= actions
    assert fake.stats["429"] == 0
    # Every press was answered.
    assert fake.stats["answerCallbackQuery"] == len(fake.callback_answers) >= 6


async def test_stale_and_foreign_presses_get_clear_answers(tg) -> None:
    fake = tg.fake
    await tg.link("王大娘", "陈刚", "姜兆彤", "张文艺")
    fake.add_group(GROUP, "北票科技服务队")
    await tg.say("陈刚", "/bindgroup", group=GROUP)
    await tg.say("王大娘", "点单 大棚黄瓜叶子发黄，请农技员来看看")
    await tg.press("王大娘", tg.last_to("王大娘"), "确认")
    card = fake.sent_to(GROUP)[-1]
    dm_card = tg.last_to("姜兆彤")  # opted-in members get it privately too
    assert dm_card.buttons() == [("接单", "接单 #1")]

    # Someone from another team presses in the group: told privately, nothing changes.
    _, answer = await tg.press("张文艺", card, "接单")
    assert answer["show_alert"] and "只有这些队伍的队员可以接单" in answer["text"]
    assert card.buttons() == [("接单", "接单 #1")]

    # The captain takes it from the group; the DM card 姜兆彤 still holds is now stale.
    await tg.press("陈刚", card, "接单")
    assert card.reply_markup is None
    out, answer = await tg.press("姜兆彤", dm_card, "接单")
    assert "已经有人接了" in answer["text"]
    assert "已经有人接了" in tg.last_to("姜兆彤").text
    assert dm_card.reply_markup is None

    # A typed command from the group works too (latin alias with the bot's name).
    out = await tg.say("张文艺", "/accept@xinfeng_test_bot 1", group=GROUP)
    assert out and "只有这些队伍的队员可以接单" in out[-1].text


async def test_deep_link_joins_a_team_and_a_forwarded_contact_proves_nothing(tg) -> None:
    out = await tg.say("新队员", "/start join_KJ2026")
    assert "加入「科技服务队」" in out[-1].text
    tg.user_id("姜兆彤")
    tg.fake.user_shares_contact(tg.user_id("新队员"), "+8613900000011", own=False,
                                contact_user_id=tg.user_id("姜兆彤"))
    await tg.settle()
    assert "只能分享您本人的手机号" in tg.last_to("新队员").text
    out = await tg.say("新队员", "分享手机号")
    assert out[-1].reply_markup == {"keyboard": [[{"text": "📱 分享我的手机号", "request_contact": True}]],
                                    "resize_keyboard": True, "one_time_keyboard": True}


async def test_group_upgraded_to_supergroup_keeps_its_team(tg) -> None:
    await tg.link("陈刚")
    tg.fake.add_group(-555, "科技队")
    await tg.say("陈刚", "/bindgroup", group=-555)
    tg.fake.migrate_group(-555, -100_999)
    await tg.settle()
    async with tg.chat.sessions() as s:
        assert (await s.execute(select(TeamGroup.chat_id))).scalar_one() == "-100999"


async def test_a_handled_message_wakes_the_relay_so_the_answer_leaves_at_once(tg) -> None:
    await tg.link("王大娘")
    uid = tg.user_id("王大娘")
    before = len(tg.fake.sent_to(uid))
    # The relay's own round is an hour away: only the kick after handling can deliver this.
    tg.fake.user_says(uid, "我的")
    await tg.fake.until(lambda: len(tg.fake.sent_to(uid)) > before, timeout=10)
    assert tg.last_to("王大娘").text.startswith("王大娘，您好")


async def test_a_group_press_answered_in_an_alert_goes_through_the_one_inline_path(tg, monkeypatch) -> None:
    from bot.channels.records import ChannelRecords
    from storage.models import OutboxMessage

    seen: list[tuple[str, str]] = []
    real = ChannelRecords.deliver_inline

    async def spy(self, row_ids, *, external_id, numbered=False, held=()):
        seen.append((self.platform, external_id))
        return await real(self, row_ids, external_id=external_id, numbered=numbered, held=held)

    monkeypatch.setattr(ChannelRecords, "deliver_inline", spy)
    await tg.link("王大娘", "陈刚", "张文艺")
    tg.fake.add_group(GROUP, "北票科技服务队")
    await tg.say("陈刚", "/bindgroup", group=GROUP)
    await tg.say("王大娘", "点单 大棚黄瓜叶子发黄，请农技员来看看")
    await tg.press("王大娘", tg.last_to("王大娘"), "确认")
    card = tg.fake.sent_to(GROUP)[-1]
    _, answer = await tg.press("张文艺", card, "接单")
    assert answer["show_alert"] and "只有这些队伍的队员可以接单" in answer["text"]
    [(platform, external_id)] = seen
    assert platform == "telegram" and external_id.startswith("callback:")
    async with tg.chat.sessions() as s:
        row = (await s.execute(select(OutboxMessage).where(OutboxMessage.external_message_id == external_id))).scalar_one()
    assert row.status == "sent" and "只有这些队伍的队员可以接单" in row.text
    assert all("只有这些队伍" not in m.text for m in tg.fake.sent_to(GROUP))
