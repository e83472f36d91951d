"""The relay applies what a channel reports, through one storage function, on SQLite and PostgreSQL.

A scripted channel answers each send with the outcome the test gives it; the assertions read
the database: the row's status, attempts and `not_before`, the account's or group's
reachability, the group binding after a move.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.delivery.relay import Relay
from handlers.core.messages import OutboundMessage
from storage.messaging.outbox import (
    BACKOFF_SECONDS,
    enqueue_to_group,
    enqueue_to_person,
    team_groups,
)
from storage.messaging.outcomes import (
    ChatMoved,
    Delivered,
    DeliveryOutcome,
    RecipientGone,
    Refused,
    TemporaryFailure,
    Throttled,
)
from storage.models import ChannelIdentity, OutboxMessage, Person, TeamGroup
from storage.people.identities import link_identity

PLATFORM = "scripted"


class ScriptedChannel:
    """A channel that answers each send with the next scripted outcome (delivered when none is left)."""

    platform = PLATFORM

    def __init__(self) -> None:
        self.script: list[DeliveryOutcome] = []
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> DeliveryOutcome:
        self.sent.append(message)
        return self.script.pop(0) if self.script else Delivered(f"m{len(self.sent)}")


async def _person_row(chat, name: str, text: str = "通知") -> int:
    async with chat.sessions() as s:
        await link_identity(s, platform=PLATFORM, external_id=f"acct-{name}", person_id=chat.ids[name],
                            now=chat.clock.now())
        person = await s.get(Person, chat.ids[name])
        row = await enqueue_to_person(s, person=person, text=text, now=chat.clock.now())
        await s.commit()
        return row.id


async def _group_row(chat, chat_id: str = "-100", text: str = "群通知") -> int:
    async with chat.sessions() as s:
        group = TeamGroup(team_id=chat.ids["KJ"], platform=PLATFORM, chat_id=chat_id, title="科技服务队")
        s.add(group)
        await s.flush()
        row = enqueue_to_group(s, group=group, label="科技服务队", text=text, now=chat.clock.now())
        await s.commit()
        return row.id


async def _row(chat, row_id: int) -> OutboxMessage:
    async with chat.sessions() as s:
        return await s.get(OutboxMessage, row_id)


async def _round(chat, channel: ScriptedChannel, outcome: DeliveryOutcome | None = None) -> int:
    if outcome is not None:
        channel.script.append(outcome)
    return await Relay(chat.sessions, chat.clock, [channel]).deliver_pending()


async def test_delivered_is_sent_with_the_platform_id_and_its_numbered_choices(chat) -> None:
    channel = ScriptedChannel()
    row_id = await _person_row(chat, "王大娘")
    assert await _round(chat, channel, Delivered("msg-7", numbered=("确认", "取消"))) == 1
    row = await _row(chat, row_id)
    assert (row.status, row.external_message_id, row.attempts) == ("sent", "msg-7", 0)
    from storage.messaging.wechat import choice_for

    async with chat.sessions() as s:
        assert await choice_for(s, platform=PLATFORM, chat_ids=["acct-王大娘"], number=2, now=chat.clock.now(),
                                ttl=timedelta(hours=1)) == "取消"


async def test_gone_is_undeliverable_and_the_account_unreachable(chat) -> None:
    channel = ScriptedChannel()
    first = await _person_row(chat, "王大娘", "第一条")
    second = await _person_row(chat, "王大娘", "第二条")
    await _round(chat, channel, RecipientGone("Forbidden: bot was blocked by the user"))
    assert [m.text for m in channel.sent] == ["第一条"]  # nothing more is tried against a gone chat
    rows = [await _row(chat, first), await _row(chat, second)]
    assert [r.status for r in rows] == ["undeliverable", "undeliverable"]
    assert "blocked" in rows[0].error and rows[0].attempts == 1
    async with chat.sessions() as s:
        ident = (await s.execute(select(ChannelIdentity).where(ChannelIdentity.external_id == "acct-王大娘"))).scalar_one()
        assert ident.reachable is False
        # The next message to her is no longer addressed to the gone account.
        person = await s.get(Person, chat.ids["王大娘"])
        later = await enqueue_to_person(s, person=person, text="下一条", now=chat.clock.now())
        assert later.platform != PLATFORM


async def test_a_gone_group_is_skipped_until_it_speaks_again(chat) -> None:
    channel = ScriptedChannel()
    row_id = await _group_row(chat)
    await _round(chat, channel, RecipientGone("Forbidden: bot was kicked from the supergroup chat"))
    assert (await _row(chat, row_id)).status == "undeliverable"
    async with chat.sessions() as s:
        assert [g.chat_id for g in await team_groups(s, chat.ids["KJ"]) if g.platform == PLATFORM] == []
    from storage.messaging.reach import revive_chat

    async with chat.sessions() as s:
        await revive_chat(s, platform=PLATFORM, chat_id="-100")
        await s.commit()
        assert [g.chat_id for g in await team_groups(s, chat.ids["KJ"]) if g.platform == PLATFORM] == ["-100"]


async def test_throttled_waits_for_its_time_without_counting_an_attempt(chat) -> None:
    channel = ScriptedChannel()
    first = await _person_row(chat, "王大娘", "第一条")
    second = await _person_row(chat, "王大娘", "第二条")
    other = await _person_row(chat, "李大爷", "别人的")
    assert await _round(chat, channel, Throttled(30, "429: retry after 30")) == 1
    row = await _row(chat, first)
    assert row.status == "pending" and row.attempts == 0 and "429" in row.error
    assert row.not_before == chat.clock.now() + timedelta(seconds=30)
    # Her second message waits behind the first; another chat goes on.
    assert [m.text for m in channel.sent] == ["第一条", "别人的"]
    assert (await _row(chat, second)).status == "pending" and (await _row(chat, other)).status == "sent"
    assert await _round(chat, channel) == 0
    chat.clock.advance(seconds=31)
    assert await _round(chat, channel) == 2
    assert [m.text for m in channel.sent][-2:] == ["第一条", "第二条"]
    assert (await _row(chat, first)).attempts == 0


async def test_a_moved_chat_takes_its_binding_and_owed_messages_along(chat) -> None:
    channel = ScriptedChannel()
    first = await _group_row(chat, "-555", "一")
    async with chat.sessions() as s:
        group = (await s.execute(select(TeamGroup).where(TeamGroup.platform == PLATFORM))).scalar_one()
        second = enqueue_to_group(s, group=group, label="科技服务队", text="二", now=chat.clock.now())
        await s.commit()
    await _round(chat, channel, ChatMoved("-100999"))
    async with chat.sessions() as s:
        assert (await s.execute(select(TeamGroup.chat_id).where(TeamGroup.platform == PLATFORM))).scalar_one() \
            == "-100999"
    for row_id in (first, second.id):
        row = await _row(chat, row_id)
        assert (row.address, row.status, row.attempts) == ("-100999", "pending", 0)
    assert await _round(chat, channel) == 2
    assert [m.address for m in channel.sent] == ["-555", "-100999", "-100999"]


async def test_a_temporary_failure_counts_an_attempt_and_backs_off(chat) -> None:
    channel = ScriptedChannel()
    row_id = await _person_row(chat, "王大娘")
    await _round(chat, channel, TemporaryFailure("network: connection reset"))
    row = await _row(chat, row_id)
    assert (row.status, row.attempts) == ("pending", 1) and "reset" in row.error
    assert row.not_before == chat.clock.now() + timedelta(seconds=BACKOFF_SECONDS)
    assert await _round(chat, channel) == 0  # backing off
    relay = Relay(chat.sessions, chat.clock, [channel], max_attempts=2)
    chat.clock.advance(minutes=1)
    channel.script.append(TemporaryFailure("network: still down"))
    await relay.deliver_pending()
    row = await _row(chat, row_id)
    assert (row.status, row.attempts) == ("undeliverable", 2)  # kept, never dropped


async def test_refused_is_undeliverable_and_the_recipient_untouched(chat) -> None:
    channel = ScriptedChannel()
    row_id = await _person_row(chat, "王大娘")
    await _round(chat, channel, Refused("Bad Request: message is too long"))
    assert (await _row(chat, row_id)).status == "undeliverable"
    async with chat.sessions() as s:
        ident = (await s.execute(select(ChannelIdentity).where(ChannelIdentity.external_id == "acct-王大娘"))).scalar_one()
        assert ident.reachable is True


async def test_a_channel_that_crashes_is_a_temporary_failure(chat) -> None:
    class Broken(ScriptedChannel):
        async def send(self, message: OutboundMessage) -> DeliveryOutcome:
            raise RuntimeError("a bug in the adapter")

    row_id = await _person_row(chat, "王大娘")
    assert await Relay(chat.sessions, chat.clock, [Broken()]).deliver_pending() == 0
    row = await _row(chat, row_id)
    assert (row.status, row.attempts) == ("pending", 1) and "a bug in the adapter" in row.error
