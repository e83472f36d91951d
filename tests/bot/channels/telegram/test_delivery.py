"""Nothing lost, nothing twice: restarts, redeliveries, Telegram's limits, 429s and broken networks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import RetryAfter

from bot.channels.telegram.config import TelegramLimits
from handlers.core.engine import message_from_payload
from storage.messaging.inbox import unprocessed
from storage.models import ChannelIdentity, InboxMessage, OutboxMessage, Task


async def outbox_rows(tg) -> list[OutboxMessage]:
    async with tg.chat.sessions() as s:
        return list((await s.execute(select(OutboxMessage).where(OutboxMessage.platform == "telegram")
                                     .order_by(OutboxMessage.id))).scalars())


async def owe(tg, address: int, text: str, count: int = 1) -> None:
    """Put messages in the outbox, as a handler's transaction would, and wake the relay."""
    async with tg.chat.sessions() as s:
        for i in range(count):
            s.add(OutboxMessage(platform="telegram", address=str(address), recipient_label=str(address),
                                text=text.format(i=i), created_at=tg.chat.clock.now()))
        await s.commit()
    tg.relay_loop.kick()
    await tg.settle()


# ---------------------------------------------------------------------- inbound: exactly once


async def test_a_crash_between_storing_and_handling_loses_nothing_and_repeats_nothing(tg) -> None:
    fake = tg.fake
    await tg.link("王大娘")
    uid = tg.user_id("王大娘")
    await tg.stop_bot()
    fake.user_says(uid, "点单 家里老人想请人来理发")

    # A process fetches and stores the update, then dies before handling it.
    crashed = tg.new_channel()
    await crashed.bot.initialize()
    updates = await crashed.bot.get_updates(timeout=0)
    assert [await crashed.store(u) is not None for u in updates] == [True]
    await crashed.bot.shutdown()
    assert fake.pending_updates() == 1  # never acknowledged: Telegram will offer it again

    await tg.start_bot()
    await tg.settle()
    drafts = [m for m in fake.sent_to(uid) if "请确认您的需求" in m.text]
    assert len(drafts) == 1  # handled once: recovered from the inbox, the redelivery ignored
    assert tg.channel.stats["redelivered"] == 1 and fake.pending_updates() == 0
    async with tg.chat.sessions() as s:
        statuses = (await s.execute(select(InboxMessage.status))).scalars().all()
        assert set(statuses) == {"processed"}

    await tg.press("王大娘", drafts[0], "确认")
    async with tg.chat.sessions() as s:
        assert (await s.execute(select(func.count(Task.id)))).scalar_one() == 1


async def test_two_workers_recovering_the_same_update_handle_it_once(tg) -> None:
    await tg.link("王大娘")
    uid = tg.user_id("王大娘")
    await tg.stop_bot()
    tg.fake.user_says(uid, "点单 想请人来帮忙修水管")
    crashed = tg.new_channel()
    await crashed.bot.initialize()
    for u in await crashed.bot.get_updates(timeout=0):
        await crashed.store(u)
    await crashed.bot.shutdown()
    # Two workers start at once and both find the stored, unhandled update.
    async with tg.chat.sessions() as s:
        [row] = await unprocessed(s, "telegram")
    a, b = tg.new_channel(), tg.new_channel()
    for worker in (a, b):
        worker.kit.schedule(row.id, message_from_payload(row.payload))
    await asyncio.gather(a.kit.drain(), b.kit.drain())
    # One handled it; the other met its inbox row and counted a redelivery.
    assert a.stats["handled"] + b.stats["handled"] == 1
    assert a.stats["redelivered"] + b.stats["redelivered"] == 1
    await tg.start_bot()
    await tg.settle()
    assert len([m for m in tg.fake.sent_to(uid) if "请确认您的需求" in m.text]) == 1
    for ch in (a, b):
        await ch.bot.shutdown()


async def test_webhook_redelivery_of_a_button_press_has_no_second_effect(tg_webhook) -> None:
    tg = tg_webhook
    await tg.link("王大娘")
    await tg.say("王大娘", "点单 想请人来帮忙理发")
    draft = tg.last_to("王大娘")
    before = len(tg.fake.sent_to(tg.user_id("王大娘")))
    update_id = tg.fake.press(tg.user_id("王大娘"), draft, "确认")
    await tg.settle()
    tg.fake.redeliver(update_id)
    tg.fake.redeliver(update_id)
    await tg.settle()
    async with tg.chat.sessions() as s:
        assert (await s.execute(select(func.count(Task.id)))).scalar_one() == 1
    after = tg.fake.sent_to(tg.user_id("王大娘"))[before:]
    assert [m.text.startswith("已提交") for m in after] == [True]
    assert tg.channel.stats["redelivered"] == 2


async def test_a_stored_update_whose_handler_was_lost_is_picked_up_by_the_sweeper(tg) -> None:
    await tg.link("王大娘")
    uid = tg.user_id("王大娘")
    # Stored (and so acknowledged), but the task that was to handle it is gone.
    update = Update.de_json({"update_id": 4242, "message": {
        "message_id": 1, "date": 0, "text": "我的", "chat": {"id": uid, "type": "private", "first_name": "王"},
        "from": {"id": uid, "is_bot": False, "first_name": "王"}}}, tg.channel.bot)
    assert await tg.channel.store(update) is not None
    before = len(tg.fake.sent_to(uid))
    await tg.sweeps.tick()
    await tg.settle()
    assert len(tg.fake.sent_to(uid)) == before  # too young to sweep: it may still be being handled
    tg.chat.clock.advance(minutes=2)  # older than a sweep interval: nobody is handling it any more
    await tg.sweeps.tick()
    await tg.settle()
    assert [m.text.startswith("王大娘，您好") for m in tg.fake.sent_to(uid)[before:]] == [True]


async def test_an_unreadable_update_does_not_block_the_ones_behind_it(tg, monkeypatch) -> None:
    import bot.channels.telegram.channel as channel_module

    real = channel_module.translate

    def fragile(update: Update):  # noqa: ANN202
        if update.message is not None and update.message.text == "坏":
            raise ValueError("a shape we did not foresee")
        return real(update)

    monkeypatch.setattr(channel_module, "translate", fragile)
    await tg.link("王大娘")
    uid = tg.user_id("王大娘")
    tg.fake.user_says(uid, "坏")
    await tg.say("王大娘", "我的")
    assert tg.last_to("王大娘").text.startswith("王大娘，您好")
    assert tg.channel.stats["unreadable"] == 1


# ---------------------------------------------------------------------- outbound: limits and failures


async def test_the_fake_really_enforces_telegrams_limits(fake_api) -> None:
    """An unpaced client is refused: so a run with no 429 means the pacing worked."""
    fake_api.add_user(5, "甲")
    fake_api.started.add(5)
    bot = Bot(fake_api.token, base_url=fake_api.base_url)
    async with bot:
        await bot.send_message(5, "一")
        with pytest.raises(RetryAfter):
            await bot.send_message(5, "二")
    assert fake_api.stats["429"] == 1


async def test_a_broadcast_paces_itself_and_never_gets_429(tg) -> None:
    fake = tg.fake
    users = [8_000_000 + i for i in range(100)]
    for uid in users:
        fake.add_user(uid, f"用户{uid}")
        fake.started.add(uid)
    fake.add_group(-100_777, "队伍群")
    # Telegram's limits, the global one doubled so the test is quick, enforced exactly by the fake.
    fake.limits = type(fake.limits)(global_count=60, global_period=1.0, chat_period=0.05,
                                    group_count=20, group_period=0.5)
    await tg.stop_bot()
    tg.limits = TelegramLimits(per_second=50, chat_interval=0.05, group_count=20, group_period=0.5, guard=0.02)
    await tg.start_bot()

    async with tg.chat.sessions() as s:
        for uid in users:
            s.add(OutboxMessage(platform="telegram", address=str(uid), recipient_label="x",
                                text=f"道德活动日提醒 {uid}", created_at=tg.chat.clock.now()))
        for i in range(8):  # one chat gets several, in order
            s.add(OutboxMessage(platform="telegram", address=str(users[0]), recipient_label="x",
                                text=f"第{i}条", created_at=tg.chat.clock.now()))
        for i in range(25):  # one group gets more than its 20 per window
            s.add(OutboxMessage(platform="telegram", address="-100777", recipient_label="群",
                                text=f"群消息{i}", created_at=tg.chat.clock.now()))
        await s.commit()
    tg.relay_loop.kick()
    await tg.settle(timeout=30)

    assert fake.stats["429"] == 0 and tg.channel.stats["retry_after"] == 0
    assert len(fake.all_sent()) == 100 + 8 + 25
    assert [m.text for m in fake.sent_to(users[0])][1:] == [f"第{i}条" for i in range(8)]
    assert [m.text for m in fake.sent_to(-100_777)] == [f"群消息{i}" for i in range(25)]
    assert {r.status for r in await outbox_rows(tg)} == {"sent"}
    # 133 messages at 50/s cannot all go at once: the limiter held sends back, so it (not luck)
    # kept 429s away.
    assert tg.limiter.denied > 0


async def test_an_injected_429_is_waited_out_and_the_message_still_arrives(tg) -> None:
    await tg.link("王大娘")
    uid = tg.user_id("王大娘")
    tg.fake.fail_next("sendMessage", code=429, description="Too Many Requests: retry after 7", retry_after=7,
                      chat_id=uid)
    await tg.say("王大娘", "我的")
    assert [m.text.startswith("王大娘，您好") for m in tg.fake.sent_to(uid)][-1:] == [True]
    assert tg.sleeper.waits == [7.0] and tg.channel.stats["retry_after"] == 1
    assert tg.fake.stats["injected"] == 1


async def test_a_long_retry_after_hands_the_row_back_without_counting_a_failure(tg) -> None:
    tg.fake.add_user(66, "庚")
    tg.fake.started.add(66)
    tg.fake.fail_next("sendMessage", code=429, description="Too Many Requests: retry after 60", retry_after=60,
                      chat_id=66)
    await owe(tg, 66, "第一条")
    await owe(tg, 66, "第二条")
    assert tg.fake.sent_to(66) == [] and tg.sleeper.waits == []  # not waited out in the lane
    rows = await outbox_rows(tg)
    assert [(r.status, r.attempts) for r in rows] == [("pending", 0), ("pending", 0)]
    assert rows[0].not_before == tg.chat.clock.now() + timedelta(seconds=60)
    tg.chat.clock.advance(seconds=61)
    await tg.settle()
    assert [m.text for m in tg.fake.sent_to(66)] == ["第一条", "第二条"]


async def test_a_group_that_moved_while_a_message_was_on_its_way_gets_it_at_its_new_address(tg) -> None:
    from storage.models import TeamGroup

    await tg.link("陈刚")
    tg.fake.add_group(-555, "科技队")
    await tg.say("陈刚", "/bindgroup", group=-555)
    tg.fake.add_group(-100_999, "科技队")
    tg.fake.fail_next("sendMessage", code=400, description="Bad Request: group chat was upgraded to a supergroup chat",
                      migrate_to_chat_id=-100_999, chat_id=-555)
    await owe(tg, -555, "群通知")
    assert [m.text for m in tg.fake.sent_to(-100_999)] == ["群通知"]
    async with tg.chat.sessions() as s:
        assert (await s.execute(select(TeamGroup.chat_id))).scalar_one() == "-100999"


async def test_dropped_connections_and_5xx_are_retried_with_backoff(tg) -> None:
    tg.fake.add_user(61, "乙")
    tg.fake.started.add(61)
    tg.fake.drop_next("sendMessage")
    tg.fake.fail_next("sendMessage", code=502, description="Bad Gateway")
    await owe(tg, 61, "通知")
    assert [m.text for m in tg.fake.sent_to(61)] == ["通知"]
    assert tg.fake.stats["dropped"] == 1 and tg.channel.stats["network_retry"] == 2
    assert tg.sleeper.waits == [0.01, 0.02]  # exponential backoff


async def test_a_long_outage_hands_the_message_back_to_the_relay_and_it_arrives_later(tg) -> None:
    tg.fake.add_user(62, "丙")
    tg.fake.started.add(62)
    tg.fake.fail_next("sendMessage", code=500, times=tg.channel.config.send_attempts)
    await owe(tg, 62, "通知")
    [row] = await outbox_rows(tg)
    assert (row.status, row.attempts) == ("pending", 1)  # handed back, and tried again after a backoff
    tg.chat.clock.advance(minutes=1)
    await tg.settle()
    assert [m.text for m in tg.fake.sent_to(62)] == ["通知"]
    [row] = await outbox_rows(tg)
    assert row.status == "sent" and row.attempts == 1


async def test_blocked_and_unknown_chats_are_kept_as_undeliverable(tg) -> None:
    await tg.link("王大娘")
    uid = tg.user_id("王大娘")
    tg.fake.blocked.add(uid)
    await owe(tg, uid, "通知")
    await owe(tg, 999, "给不存在的人")
    rows = await outbox_rows(tg)
    undeliverable = [r for r in rows if r.status == "undeliverable"]
    assert [r.address for r in undeliverable] == [str(uid), "999"]
    assert "blocked" in undeliverable[0].error and "not found" in undeliverable[1].error.lower()
    async with tg.chat.sessions() as s:
        ident = (await s.execute(select(ChannelIdentity).where(ChannelIdentity.external_id == str(uid)))).scalar_one()
        assert ident.reachable is False  # the next notice goes to another account, if she has one
    tg.fake.blocked.discard(uid)
    await tg.say("王大娘", "我的")  # she unblocks and writes: reachable again
    async with tg.chat.sessions() as s:
        ident = (await s.execute(select(ChannelIdentity).where(ChannelIdentity.external_id == str(uid)))).scalar_one()
        assert ident.reachable is True


async def test_long_texts_are_split_and_user_text_arrives_verbatim(tg) -> None:
    tg.fake.add_user(63, "丁")
    tg.fake.started.add(63)
    text = "\n".join(f"第{i}段 <script>alert('x')</script> & 价格<100元" + "好" * 60 for i in range(100))
    await owe(tg, 63, text)
    parts = tg.fake.sent_to(63)
    assert len(parts) == 3 and "\n".join(p.text for p in parts) == text


async def test_send_photo_speaks_the_wire_format(fake_api) -> None:
    for uid in (64, 65):
        fake_api.add_user(uid, "戊")
        fake_api.started.add(uid)
    bot = Bot(fake_api.token, base_url=fake_api.base_url)
    async with bot:
        uploaded = await bot.send_photo(64, photo=b"\x89PNG fake bytes", caption="<b>证明</b>", parse_mode=ParseMode.HTML)
        # Another chat: the fake allows one message a second (here 50 ms) per chat.
        by_id = await bot.send_photo(65, photo="AgACAgIAAxk-file-id")
    assert uploaded.photo and by_id.photo[0].file_id == "AgACAgIAAxk-file-id"
    assert fake_api.stats["photo_bytes"] == len(b"\x89PNG fake bytes")


async def test_a_reply_overtakes_a_broadcast_at_exactly_the_platforms_limit(tg) -> None:
    """Two lanes: bulk leaves part of the global budget free, so a person's reply goes at once; and
    with the client configured at the platform's own limit, the guard still keeps it from any 429."""
    fake = tg.fake
    await tg.link("王大娘")
    uid = tg.user_id("王大娘")
    base = len(fake.all_sent())  # the linking message
    users = [8_100_000 + i for i in range(250)]  # five seconds of broadcast at 50/s
    for u in users:
        fake.add_user(u, f"用户{u}")
        fake.started.add(u)
    fake.limits = type(fake.limits)(global_count=50, global_period=1.0, chat_period=0.05,
                                    group_count=20, group_period=0.5)
    await tg.stop_bot()
    tg.limits = TelegramLimits(per_second=50, chat_interval=0.05, group_count=20, group_period=0.5, guard=0.02)
    await tg.start_bot()
    from bot.channels.base import parser_warmed

    await parser_warmed()  # loaded in a thread at start; the reply is to be timed, not the loading
    async with tg.chat.sessions() as s:
        for u in users:
            s.add(OutboxMessage(platform="telegram", address=str(u), recipient_label="x", text=f"广播 {u}",
                                kind="notice", created_at=tg.chat.clock.now()))
        await s.commit()
    tg.relay_loop.kick()
    await fake.until(lambda: len(fake.all_sent()) >= base + 20, timeout=30)  # the broadcast is draining
    had = len(fake.sent_to(uid))
    fake.user_says(uid, "帮助")
    await fake.until(lambda: len(fake.sent_to(uid)) > had, timeout=10)
    order = [m.chat_id for m in fake.all_sent()[base:]]
    assert uid in order and order.index(uid) < len(users)  # it did not wait for the broadcast's end
    await tg.settle(timeout=30)
    assert len(fake.all_sent()) == base + 251 and fake.stats["429"] == 0
