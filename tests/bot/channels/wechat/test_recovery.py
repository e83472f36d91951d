"""A WeChat or WeCom message stored just before a crash is handled after the restart — once.

WeChat retries a callback it got no answer to, but a retry of a stored message is a
redelivery: it is answered "success" and has no effect of its own. So the message the crashed
process stored must be handled by the next process's kit (its start-up sweep), exactly once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.channels.wechat.channel import inbound_from
from bot.channels.wechat.replies import PASSIVE
from storage.models import InboxMessage, OutboxMessage
from storage.people.identities import link_identity


async def _inbox(world) -> list[str]:
    async with world.chat.sessions() as s:
        return list((await s.execute(select(InboxMessage.status).order_by(InboxMessage.id))).scalars())


@pytest.mark.both_backends
@pytest.mark.parametrize("platform", ["wechat", "wecom"])
async def test_a_message_stored_before_a_crash_is_handled_once_after_restart(make_world, platform: str) -> None:
    world = await make_world()
    if platform == "wechat":
        server, channel, user = world.resident, world.oa, "o-crash"
        world.fake.oa.user_acted(user, world.chat.clock.now())  # a follower, inside the 48-hour window

        def texts() -> list[str]:
            return world.fake.oa.texts_to(user)
    else:
        server, channel, user = world.member, world.wecom, "qian"
        async with world.chat.sessions() as s:
            await link_identity(s, platform="wecom", external_id=user, person_id=world.chat.ids["钱志愿"],
                                now=world.chat.clock.now())
            await s.commit()
        world.fake.wecom.members.add(user)

        def texts() -> list[str]:
            return world.fake.wecom.texts_to(user)

    # The process verifies the callback and stores its message, then dies before handling it.
    fields = server.fields(user, "text", Content="帮助")
    message = inbound_from({k: str(v) for k, v in fields.items()}, platform, platform)
    assert message is not None
    assert await channel.kit.store(message) is not None
    del channel  # nothing of it survives but the database

    assert texts() == [] and await _inbox(world) == ["received"]

    # The next process starts on the same database: its kit handles what was left, once.
    restarted = await make_world()
    await (restarted.oa if platform == "wechat" else restarted.wecom).start()
    await restarted.settle()
    [text] = texts()
    assert "我能帮您" in text
    assert await _inbox(world) == ["processed"]

    # WeChat's last retry of that callback: still no second effect.
    again = await restarted.member.post(fields) if platform == "wecom" else await restarted.resident.post(fields)
    assert again.status == 200 and again.body == "success"
    await restarted.settle()
    assert len(texts()) == 1 and await _inbox(world) == ["processed"]


async def test_a_message_being_handled_is_left_alone_by_the_sweep(make_world) -> None:
    world = await make_world()
    await world.resident.text("o-young", "我的")  # a follower, inside the 48-hour window
    interval = timedelta(seconds=world.oa.kit.sweep_interval)
    fields = world.resident.fields("o-young", "text", Content="帮助")
    message = inbound_from({k: str(v) for k, v in fields.items()}, "wechat", "wechat")
    assert message is not None
    assert await world.oa.kit.store(message) is not None
    # Younger than a sweep interval: another worker may be handling it right now.
    assert await world.oa.kit.recover(older_than=interval) == 0
    world.chat.clock.advance(minutes=2)
    assert await world.oa.kit.recover(older_than=interval) == 1
    assert await world.oa.kit.recover(older_than=interval) == 0  # in hand already: not scheduled twice
    await world.settle()
    assert len(world.fake.oa.texts_to("o-young")) == 1


async def test_the_passive_reply_is_recorded_through_the_one_inline_path_in_the_handling_commit(
        world, monkeypatch) -> None:
    import storage.messaging.outbox as outbox_module
    from sqlalchemy import event

    seen: list[str] = []
    real = outbox_module.deliver_inline

    async def spy(session, row_ids, *, external_id, now, numbered=False, held=()):
        seen.append(external_id)
        return await real(session, row_ids, external_id=external_id, now=now, numbered=numbered, held=held)

    monkeypatch.setattr(outbox_module, "deliver_inline", spy)
    await world.resident.text("o-inline", "在吗")  # the account exists: what follows is one message's cost
    commits: list[int] = []
    bind = world.chat.sessions.kw["bind"].sync_engine
    count = lambda *_: commits.append(1)  # noqa: E731
    event.listen(bind, "commit", count)
    try:
        answer = await world.resident.text("o-inline", "帮助")
    finally:
        event.remove(bind, "commit", count)
    assert "我能帮您" in (answer.reply or "")
    assert seen == [PASSIVE, PASSIVE]
    # Kept, then handled with its passive reply recorded: two commits (a separate claim made three).
    assert len(commits) == 2
    async with world.chat.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
    assert [(r.status, r.external_message_id) for r in rows] == [("sent", PASSIVE)] * 2


async def test_a_retry_of_a_kept_unhandled_callback_is_handled_at_once_and_once(make_world) -> None:
    # A worker kept the message and died; WeChat's retry reaches a live worker: it does not wait for
    # a sweep (a reply within seconds), and the one inbox row makes it the only handling.
    world = await make_world()
    fields = world.resident.fields("o-retry", "text", Content="帮助")
    message = inbound_from({k: str(v) for k, v in fields.items()}, "wechat", "wechat")
    assert message is not None
    assert await world.oa.kit.store(message) is not None
    retry = await world.resident.post(fields)
    assert retry.status == 200 and retry.reply is not None and "我能帮您" in retry.reply
    again = await world.resident.post(fields)
    assert again.status == 200 and again.body == "success" and again.reply is None
    await world.settle()
    assert world.fake.oa.texts_to("o-retry") == [] and await _inbox(world) == ["processed"]
