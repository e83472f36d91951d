"""The Official Account's callback route: verification, passive replies, events, media, numbered choices."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.messaging.wechat import last_action
from storage.models import ChannelIdentity, InboxMessage, OutboxMessage, Person


async def test_url_verification_echoes_only_for_our_signature(world) -> None:
    params, _ = world.resident.signed("<xml/>")
    params["echostr"] = "echo-4711"
    answer = await world.http.get("/wechat", params=params)
    assert answer.status_code == 200 and answer.text == "echo-4711"
    params["signature"] = "0" * 40
    assert (await world.http.get("/wechat", params=params)).status_code == 403


async def test_wecom_url_verification_decrypts_the_echostr(world) -> None:
    crypto = world.member.crypto
    sealed = crypto.encrypt_message("plain-echo-42", "n1", world.member.timestamp())
    cipher = sealed.split("<Encrypt><![CDATA[", 1)[1].split("]]></Encrypt>", 1)[0]
    from bot.channels.wechat.callbacks import sign

    ts = world.member.timestamp()
    params = {"timestamp": ts, "nonce": "n1", "echostr": cipher,
              "msg_signature": sign(world.member.token, ts, "n1", cipher)}
    answer = await world.http.get("/wecom", params=params)
    assert answer.status_code == 200 and answer.text == "plain-echo-42"


async def test_encrypted_text_gets_an_encrypted_passive_reply(world) -> None:
    answer = await world.resident.text("o-new-user", "帮助")
    assert answer.status == 200
    assert "<Encrypt>" in answer.body and "我能帮您" not in answer.body  # sealed on the wire
    assert answer.reply is not None and "我能帮您" in answer.reply
    async with world.chat.sessions() as s:
        row = (await s.execute(select(OutboxMessage))).scalars().one()
        assert row.status == "sent" and row.external_message_id == "passive"
    assert await world.settle() == 0  # the relay does not send it again
    assert world.fake.oa.custom == []


async def test_plain_mode_works_and_refuses_nothing_it_should_accept(make_world) -> None:
    world = await make_world(encrypted=False)
    answer = await world.resident.text("o-plain", "帮助")
    assert answer.status == 200 and "<Encrypt>" not in answer.body and "我能帮您" in (answer.reply or "")


async def test_encrypted_account_refuses_a_plain_callback(world) -> None:
    answer = await world.resident.text("o-x", "帮助", encrypted=False)
    assert answer.status == 403


async def test_subscribe_welcomes_and_a_village_name_registers(world) -> None:
    answer = await world.resident.event("o-villager", "subscribe")
    assert "欢迎关注" in (answer.reply or "") and "村" in (answer.reply or "")
    answer = await world.resident.text("o-villager", "蓬莱")
    assert "已登记您在「蓬莱社区新时代文明实践站」" in (answer.reply or "")
    async with world.chat.sessions() as s:
        person = (await s.execute(
            select(Person).join(ChannelIdentity, ChannelIdentity.person_id == Person.id)
            .where(ChannelIdentity.external_id == "o-villager"))).scalar_one()
        assert person.is_resident and person.org_unit_id == world.chat.ids["PL"]


async def test_menu_click_runs_the_same_command_as_text(world) -> None:
    by_text = await world.resident.text("o-menu", "我的")
    by_click = await world.resident.event("o-menu", "CLICK", key="我的")
    assert by_click.reply and by_click.reply == by_text.reply


async def test_unsubscribe_marks_the_account_unreachable(world) -> None:
    await world.resident.text("o-leaving", "帮助")
    answer = await world.resident.event("o-leaving", "unsubscribe")
    assert answer.status == 200 and answer.reply is None
    async with world.chat.sessions() as s:
        ident = (await s.execute(select(ChannelIdentity).where(ChannelIdentity.external_id == "o-leaving"))).scalar_one()
        assert ident.reachable is False


async def test_image_and_voice_become_media_on_the_draft(world) -> None:
    await world.resident.event("o-photo", "subscribe")
    await world.resident.text("o-photo", "蓬莱")
    answer = await world.resident.post(world.resident.fields("o-photo", "image", PicUrl="http://x/p.jpg",
                                                             MediaId="MEDIA-IMG-1"))
    assert "请确认" in (answer.reply or "") and "附件：1 个" in (answer.reply or "")
    answer = await world.resident.post(world.resident.fields("o-photo", "voice", MediaId="MEDIA-VOICE-1",
                                                             Format="amr"))
    assert "已附上（共 2 个附件）" in (answer.reply or "")
    async with world.chat.sessions() as s:
        payloads = [r.payload for r in (await s.execute(select(InboxMessage).order_by(InboxMessage.id))).scalars()]
    assert {"kind": "photo", "ref": "wechat:MEDIA-IMG-1"} in payloads[-2]["media"]
    assert {"kind": "voice", "ref": "wechat:MEDIA-VOICE-1"} in payloads[-1]["media"]


async def test_recognised_voice_is_the_request(world) -> None:
    await world.resident.event("o-voice", "subscribe")
    await world.resident.text("o-voice", "蓬莱")
    answer = await world.resident.post(world.resident.fields(
        "o-voice", "voice", MediaId="MEDIA-V", Format="amr", Recognition="家里老人想请人来帮忙理发"))
    assert "请确认" in (answer.reply or "") and "理发" in (answer.reply or "")


async def test_an_unsure_category_is_asked_by_number_and_a_voice_without_words_asks_too(world) -> None:
    # Issue 11: no buttons on WeChat, so the likeliest kinds are numbered first and a number picks one.
    await world.resident.event("o-ask", "subscribe")
    await world.resident.text("o-ask", "蓬莱")
    answer = await world.resident.text("o-ask", "想请人讲讲垃圾分类")
    assert "您要的是哪类帮助？" in (answer.reply or "")
    assert "回复 1 环境整治 · 2 理论宣讲 · 3 其他… · 4 确认 · 5 取消" in (answer.reply or "")
    answer = await world.resident.text("o-ask", "2")
    assert "类别：理论宣讲" in (answer.reply or "") and "回复 1 确认 · 2 取消" in (answer.reply or "")
    await world.resident.event("o-says", "subscribe")  # no draft open (one open takes the voice as an attachment)
    await world.resident.text("o-says", "蓬莱")
    answer = await world.resident.post(world.resident.fields("o-says", "voice", MediaId="MEDIA-V2", Format="amr"))
    assert "我还听不懂语音" in (answer.reply or "") and "内容：语音需求" in (answer.reply or "")


@pytest.mark.both_backends
async def test_buttons_become_numbered_choices_and_a_number_presses_one(world) -> None:
    await world.resident.event("o-num", "subscribe")
    await world.resident.text("o-num", "蓬莱")
    answer = await world.resident.text("o-num", "村里垃圾堆了好几天没人管")  # a sure guess: 确认/取消
    assert "回复 1 确认 · 2 取消" in (answer.reply or "")
    answer = await world.resident.text("o-num", "２")  # full-width, as phones often type it
    assert "已取消" in (answer.reply or "")


async def test_user_actions_open_the_window(world) -> None:
    clock = world.chat.clock
    await world.resident.text("o-win", "帮助")
    async with world.chat.sessions() as s:
        assert await last_action(s, platform="wechat", user_id="o-win") == (clock.now(), True)
    clock.advance(minutes=3)
    await world.resident.event("o-win", "VIEW", key="https://example.org/")  # no message, still an action
    async with world.chat.sessions() as s:
        assert await last_action(s, platform="wechat", user_id="o-win") == (clock.now(), True)
        assert (await s.execute(select(func.count(InboxMessage.id)))).scalar_one() == 1


async def test_scanning_a_team_qr_code_joins_the_team(world) -> None:
    answer = await world.resident.event("o-joiner", "subscribe", key="qrscene_join_PLD2026")
    assert "加入「蓬莱社区志愿服务队」" in (answer.reply or "")
