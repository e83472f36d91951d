"""Callbacks that must be refused before anything is stored, retries with one effect, slow handlers."""

from __future__ import annotations

import asyncio
import time
import tracemalloc

import pytest
from sqlalchemy import func, select

from bot.channels.wechat.callbacks import MAX_BODY_BYTES
from bot.channels.wechat.replies import PASSIVE
from handlers.app import build_dispatcher
from handlers.core.engine import Engine
from storage.models import InboxMessage, OutboxMessage, Person

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<xml><ToUserName>gh_xinfeng</ToUserName><FromUserName>o-attacker</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&g;</Content><MsgId>1</MsgId></xml>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh_xinfeng</ToUserName><FromUserName>o-attacker</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&secret;</Content><MsgId>2</MsgId></xml>"""


async def _stored(world) -> tuple[int, int, int]:
    async with world.chat.sessions() as s:
        inbox = (await s.execute(select(func.count(InboxMessage.id)))).scalar_one()
        outbox = (await s.execute(select(func.count(OutboxMessage.id)))).scalar_one()
        people = (await s.execute(select(func.count(Person.id)))).scalar_one()
    return inbox, outbox, people


@pytest.mark.parametrize("encrypted", [True, False])
async def test_forged_signature_is_refused_and_nothing_stored(make_world, encrypted: bool) -> None:
    world = await make_world(encrypted=encrypted)
    before = await _stored(world)
    fields = world.resident.fields("o-forger", "text", Content="帮助")
    params, body = world.resident.signed(world.resident.xml(fields))
    params["msg_signature" if encrypted else "signature"] = "f" * 40
    answer = await world.resident.post_raw(params, body)
    assert answer.status == 403
    assert await _stored(world) == before


async def test_wrong_token_is_refused(world) -> None:
    world.resident.token = "not-our-token"
    answer = await world.resident.text("o-forger", "帮助")
    assert answer.status == 403


async def test_forged_wecom_message_is_refused(world) -> None:
    before = await _stored(world)
    world.member.token = "stolen-corp-id-but-not-the-token"
    answer = await world.member.text("zhao", "接单 #1")
    assert answer.status == 403
    assert await _stored(world) == before


@pytest.mark.parametrize("minutes", [-6, 6])
async def test_stale_or_future_timestamp_is_refused(world, minutes: int) -> None:
    before = await _stored(world)
    ts = str(int(world.chat.clock.now().timestamp()) + minutes * 60)
    answer = await world.resident.text("o-replay", "帮助", timestamp=ts)
    assert answer.status == 403
    assert await _stored(world) == before
    ok = str(int(world.chat.clock.now().timestamp()) - 4 * 60)
    assert (await world.resident.text("o-replay", "帮助", timestamp=ok)).status == 200


async def test_oversized_body_gets_413_declared_or_streamed(world) -> None:
    before = await _stored(world)
    fields = world.resident.fields("o-big", "text", Content="好" * (MAX_BODY_BYTES // 2))
    answer = await world.resident.post(fields, encrypted=False)
    assert answer.status == 413

    params, body = world.resident.signed("<xml><a>" + "x" * (MAX_BODY_BYTES + 10) + "</a></xml>", encrypted=False)

    async def chunks():
        for i in range(0, len(body), 4096):
            yield body[i:i + 4096]

    response = await world.http.post("/wechat", params={**params, "encrypt_type": "aes"}, content=chunks())
    assert response.status_code in (403, 413)  # plain body to an encrypted account: refused either way
    response = await world.http.post("/wecom", params=params, content=chunks())
    assert response.status_code == 413
    assert await _stored(world) == before


async def test_malformed_xml_is_refused(make_world) -> None:
    world = await make_world(encrypted=False)
    for body in (b"not xml at all", b"<xml><unclosed></xml>", b"<html><body/></html>", b"",
                 b"<xml><MsgType>text</MsgType></xml>"):  # the last: well-formed, but no sender
        params, _ = world.resident.signed("<xml/>", encrypted=False)
        answer = await world.resident.post_raw(params, body)
        assert answer.status == 400, body
    assert (await _stored(world))[0] == 0


@pytest.mark.parametrize("encrypted", [False, True])
async def test_entity_expansion_and_external_entities_are_refused_quickly(make_world, encrypted: bool) -> None:
    world = await make_world(encrypted=encrypted)
    for payload in (BILLION_LAUGHS, XXE):
        if encrypted:
            # The outer envelope is parsed before msg_signature can be checked: no signature needed.
            params, _ = world.resident.signed("<xml/>")
            body = payload.encode()
        else:
            params, body = world.resident.signed(payload, encrypted=False)  # correctly signed
        tracemalloc.start()
        answer = await world.resident.post_raw(params, body)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert answer.status == 400
        assert peak < 2_000_000  # never expanded: &g; alone would be 10^8 bytes
    assert (await _stored(world))[0] == 0


async def test_encrypted_message_for_another_account_is_refused(world, wechat_ids) -> None:
    from wechatpy.crypto import WeChatCrypto

    # Right token and key, but sealed for another app id: not a message for this account.
    world.resident.crypto = WeChatCrypto(world.resident.token, wechat_ids["oa_aes"], "wx-some-other-account")
    answer = await world.resident.text("o-elsewhere", "帮助")
    assert answer.status == 403
    assert (await _stored(world))[0] == 0


@pytest.mark.both_backends
async def test_a_callback_retried_three_times_has_one_effect(world) -> None:
    await world.resident.event("o-retry", "subscribe")
    await world.resident.text("o-retry", "蓬莱")
    fields = world.resident.fields("o-retry", "text", Content="家里水管冻裂了，需要人帮忙修")
    first = await world.resident.post(fields)
    assert "请确认" in (first.reply or "")
    confirm = world.resident.fields("o-retry", "text", Content="确认")
    answers = [await world.resident.post(confirm, nonce=f"retry{i}") for i in range(4)]
    assert "已提交" in (answers[0].reply or "")
    assert [a.status for a in answers] == [200] * 4
    assert all(a.reply is None and a.body == "success" for a in answers[1:])
    await world.settle()
    from storage.models import Task

    async with world.chat.sessions() as s:
        assert (await s.execute(select(func.count(Task.id)))).scalar_one() == 1
        stored = (await s.execute(select(func.count(InboxMessage.id))
                                  .where(InboxMessage.message_id == str(confirm["MsgId"])))).scalar_one()
        assert stored == 1


class GatedDispatcher:
    """The real dispatcher behind a gate the test opens: a handler as slow as the test wants."""

    def __init__(self) -> None:
        self.inner = build_dispatcher()
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()

    async def dispatch(self, ctx, text: str) -> bool:
        self.entered.set()
        await self.gate.wait()
        return await self.inner.dispatch(ctx, text)


@pytest.mark.both_backends
async def test_slow_handler_answers_in_time_and_replies_by_customer_service(make_world) -> None:
    from zoneinfo import ZoneInfo

    gated = GatedDispatcher()
    probe = await make_world()
    engine = Engine(sessions=probe.chat.sessions, clock=probe.chat.clock, dispatcher=gated,  # type: ignore[arg-type]
                    tz=ZoneInfo("Asia/Shanghai"))
    world = await make_world(engine=engine, budget=0.05)
    try:
        started = time.perf_counter()
        fields = world.resident.fields("o-slow", "text", Content="帮助")
        answer = await world.resident.post(fields)
        assert time.perf_counter() - started < 1.0
        assert answer.status == 200 and answer.body == "success" and answer.reply is None
        await asyncio.wait_for(gated.entered.wait(), timeout=10)  # handling goes on after the answer
        assert world.fake.oa.custom == []
        # Had WeChat not got its answer, it would retry: answered at once, with no second effect.
        retry = await world.resident.post(fields)
        assert retry.status == 200 and retry.body == "success"
    finally:
        gated.gate.set()
    await world.settle()
    texts = world.fake.oa.texts_to("o-slow")
    assert len(texts) == 1 and "我能帮您" in texts[0]


async def test_replies_recorded_for_an_answer_that_went_out_empty_are_handed_back(make_world, monkeypatch) -> None:
    from zoneinfo import ZoneInfo

    from bot.channels.records import ChannelRecords

    gated = GatedDispatcher()
    probe = await make_world()
    engine = Engine(sessions=probe.chat.sessions, clock=probe.chat.clock, dispatcher=gated,  # type: ignore[arg-type]
                    tz=ZoneInfo("Asia/Shanghai"))
    world = await make_world(engine=engine, budget=0.05)
    real_undo = ChannelRecords.undo_inline
    tries: list[int] = []

    async def database_away_once(self, row_ids, *, external_id, held=()):
        tries.append(len(row_ids))
        if len(tries) == 1:
            raise ConnectionError("the database went away for a moment")
        return await real_undo(self, row_ids, external_id=external_id, held=held)

    monkeypatch.setattr(ChannelRecords, "undo_inline", database_away_once)
    try:
        answer = await world.resident.text("o-late", "帮助")
        assert answer.status == 200 and answer.body == "success"
    finally:
        gated.gate.set()  # the handling commits after the answer went out empty
    await world.settle()
    assert tries == [1, 1]  # handed back, retried past the outage
    [text] = world.fake.oa.texts_to("o-late")
    assert "我能帮您" in text
    async with world.chat.sessions() as s:
        row = (await s.execute(select(OutboxMessage))).scalar_one()
        assert row.status == "sent" and row.external_message_id != PASSIVE
