"""The WeCom app: encrypted callbacks with passive replies, the per-member limit, group chats."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from bot.channels.wecom.channel import member_limits
from storage.messaging.outbox import enqueue_to_person
from storage.models import ChannelIdentity, OutboxMessage, Person
from storage.people.identities import link_identity


async def _member(world, name: str, userid: str) -> Person:
    async with world.chat.sessions() as s:
        await link_identity(s, platform="wecom", external_id=userid, person_id=world.chat.ids[name],
                            now=world.chat.clock.now())
        await s.commit()
        world.fake.wecom.members.add(userid)
        return await s.get(Person, world.chat.ids[name])


async def _owe(world, person: Person, count: int) -> list[int]:
    async with world.chat.sessions() as s:
        rows = [await enqueue_to_person(s, person=person, text=f"通知 {n}", now=world.chat.clock.now())
                for n in range(count)]
        await s.commit()
        return [r.id for r in rows]


async def test_member_gets_an_encrypted_passive_reply(world) -> None:
    await _member(world, "钱志愿", "qian")
    answer = await world.member.text("qian", "我的")
    assert answer.status == 200 and "<Encrypt>" in answer.body
    assert "钱志愿，您好" in (answer.reply or "")


async def test_callbacks_for_another_app_of_the_corp_are_ignored(world) -> None:
    await _member(world, "钱志愿", "qian")
    world.member.agent_id = 1000099
    answer = await world.member.text("qian", "我的")
    assert answer.status == 200 and answer.body == "success" and answer.reply is None


async def test_wecom_callbacks_must_be_encrypted(world) -> None:
    params, body = world.member.signed("<xml><ToUserName>x</ToUserName></xml>", encrypted=False)
    answer = await world.member.post_raw(params, body)
    assert answer.status == 400  # no Encrypt field: not a WeCom callback


@pytest.mark.both_backends
async def test_per_member_limit_paces_instead_of_losing_messages(world) -> None:
    clock = world.chat.clock
    person = await _member(world, "钱志愿", "qian")
    await _owe(world, person, 35)
    started = clock.now()
    await world.settle()
    assert len(world.fake.wecom.texts_to("qian")) == 35
    assert world.fake.wecom.dropped == []  # WeCom would have dropped 5 of them silently
    assert (clock.now() - started).total_seconds() >= 60  # the limiter waited (on the test clock)


async def test_the_fake_drops_what_the_limiter_prevents(fake_api, clock) -> None:
    fake_api.wecom.members.add("qian")
    async with httpx.AsyncClient(base_url=fake_api.base_url + "/wecom/cgi-bin") as http:
        token = (await http.get("/gettoken", params={"corpid": fake_api.wecom.corp_id,
                                                     "corpsecret": fake_api.wecom.secret})).json()["access_token"]
        for n in range(31):
            answer = await http.post("/message/send", params={"access_token": token}, json={
                "touser": "qian", "msgtype": "text", "agentid": fake_api.wecom.agent_id, "text": {"content": f"{n}"}})
            assert answer.json()["errcode"] == 0
    assert len(fake_api.wecom.texts_to("qian")) == 30 and len(fake_api.wecom.dropped) == 1


async def test_hourly_limit_hands_the_message_back_to_the_relay(world) -> None:
    person = await _member(world, "钱志愿", "qian")
    hourly = member_limits(world.wecom.agent_id, "qian")[1]
    for _ in range(hourly.limit):
        await world.wecom.limiter.try_acquire_all([hourly])
    [row_id] = await _owe(world, person, 1)
    await world.settle()
    async with world.chat.sessions() as s:
        row = await s.get(OutboxMessage, row_id)
    assert row.status == "pending" and "member limit" in (row.error or "")
    assert world.fake.wecom.texts_to("qian") == []


async def test_unknown_member_is_undeliverable_and_unreachable(world) -> None:
    person = await _member(world, "钱志愿", "qian")
    world.fake.wecom.members.discard("qian")  # left the company
    [row_id] = await _owe(world, person, 1)
    await world.settle()
    async with world.chat.sessions() as s:
        row = await s.get(OutboxMessage, row_id)
        ident = (await s.execute(select(ChannelIdentity).where(ChannelIdentity.external_id == "qian"))).scalar_one()
    assert row.status == "undeliverable" and "81013" in (row.error or "")
    assert ident.reachable is False


async def test_unsubscribing_from_the_app_marks_the_member_unreachable(world) -> None:
    await _member(world, "钱志愿", "qian")
    await world.member.event("qian", "unsubscribe")
    async with world.chat.sessions() as s:
        ident = (await s.execute(select(ChannelIdentity).where(ChannelIdentity.external_id == "qian"))).scalar_one()
    assert ident.reachable is False


async def test_group_chat_that_vanished_is_undeliverable(world) -> None:
    await _member(world, "钱志愿", "qian")
    await _member(world, "赵志愿", "zhao")
    chat_id = await world.wecom.create_team_group(world.chat.ids["PLD"])
    del world.fake.wecom.chats[chat_id]  # dissolved in WeCom
    from storage.messaging.outbox import enqueue_to_group
    from storage.models import TeamGroup

    async with world.chat.sessions() as s:
        group = (await s.execute(select(TeamGroup))).scalar_one()
        row = enqueue_to_group(s, group=group, label="蓬莱", text="广播", now=world.chat.clock.now())
        await s.commit()
    await world.settle()
    async with world.chat.sessions() as s:
        assert (await s.get(OutboxMessage, row.id)).status == "undeliverable"
