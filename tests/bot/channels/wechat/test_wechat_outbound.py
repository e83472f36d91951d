"""Official Account notifications: customer-service inside the 48-hour window, templates outside it,
undeliverable (recorded) when neither is possible, quota back-off; the menu and media APIs."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.channels.wechat.api import QuotaExceeded
from bot.channels.wechat.channel import CS_LIMIT, DEFAULT_MENU
from storage.messaging.outbox import enqueue_to_person
from storage.models import ChannelIdentity, OutboxMessage, Person


async def _person(world, openid: str) -> Person:
    async with world.chat.sessions() as s:
        return (await s.execute(select(Person).join(ChannelIdentity, ChannelIdentity.person_id == Person.id)
                                .where(ChannelIdentity.external_id == openid))).scalar_one()


async def _notify(world, openid: str, text: str, *, ref: str | None = "task:7", buttons=None) -> OutboxMessage:
    person = await _person(world, openid)
    async with world.chat.sessions() as s:
        row = await enqueue_to_person(s, person=person, text=text, now=world.chat.clock.now(), ref=ref,
                                      buttons=buttons)
        await s.commit()
    await world.settle()
    async with world.chat.sessions() as s:
        return await s.get(OutboxMessage, row.id)


@pytest.mark.both_backends
async def test_inside_the_window_by_customer_service_outside_by_template(world) -> None:
    await world.resident.text("o-res", "帮助")
    row = await _notify(world, "o-res", "志愿者 赵志愿 接了您的任务 #7",
                        buttons=[{"label": "查看", "data": "我的"}])
    assert row.status == "sent"
    assert world.fake.oa.texts_to("o-res") == ["志愿者 赵志愿 接了您的任务 #7\n回复 1 查看"]

    world.chat.clock.advance(hours=49)  # also past the token's 7,200 s: a fresh one is fetched
    row = await _notify(world, "o-res", "志愿者报告任务 #7 已完成\n请打分", buttons=[{"label": "★★★★★", "data": "评价 #7 5"}])
    assert row.status == "sent" and row.external_message_id
    [template] = world.fake.oa.templates_to("o-res")
    assert template["template_id"] == "TPL_TASK_UPDATE"
    assert template["data"]["first"]["value"] == "志愿者报告任务 #7 已完成"
    assert "回复 1 ★★★★★" in template["data"]["remark"]["value"]
    assert world.fake.oa.tokens.fetches == 2
    # The numbered choice works when the user answers the template.
    answer = await world.resident.text("o-res", "1")
    assert "没有找到任务 #7" in (answer.reply or "")


async def test_kinds_pick_their_templates_and_default_catches_the_rest(world) -> None:
    await world.resident.text("o-kind", "帮助")
    world.chat.clock.advance(hours=48, seconds=1)
    await _notify(world, "o-kind", "明天是道德活动日", ref=None)
    assert [t["template_id"] for t in world.fake.oa.templates_to("o-kind")] == ["TPL_GENERAL_NOTICE"]


async def test_outside_the_window_without_a_template_is_undeliverable_not_dropped(make_world) -> None:
    world = await make_world(template_ids={})
    await world.resident.text("o-none", "帮助")
    world.chat.clock.advance(hours=48, minutes=1)
    row = await _notify(world, "o-none", "任务 #7 已被取消")
    assert row.status == "undeliverable" and "no template" in (row.error or "")
    assert world.fake.oa.custom == [] and world.fake.oa.templates == []


@pytest.mark.both_backends
async def test_the_window_count_limit_falls_back_to_templates(world) -> None:
    await world.resident.text("o-many", "帮助")
    for n in range(CS_LIMIT + 2):
        await _notify(world, "o-many", f"通知 {n}")
    assert len(world.fake.oa.texts_to("o-many")) == CS_LIMIT
    assert len(world.fake.oa.templates_to("o-many")) == 2
    # A new action from the user opens a new window.
    world.chat.clock.advance(minutes=1)
    await world.resident.text("o-many", "帮助")
    await _notify(world, "o-many", "再来一条")
    assert world.fake.oa.texts_to("o-many")[-1] == "再来一条"


async def test_wechat_refusing_the_window_falls_back_to_a_template(world, caplog) -> None:
    await world.resident.text("o-off", "帮助")
    world.fake.oa.cs_count["o-off"] = 20  # WeChat counted messages we did not see (another system)
    with caplog.at_level(logging.WARNING):
        row = await _notify(world, "o-off", "任务 #7 有新进展")
    assert row.status == "sent" and len(world.fake.oa.templates_to("o-off")) == 1
    assert any("45047" in r.getMessage() for r in caplog.records)
    await _notify(world, "o-off", "下一条")  # the window is known closed now: straight to a template
    assert len(world.fake.oa.templates_to("o-off")) == 2
    assert world.fake.oa.calls.count("message/custom/send") == 1


async def test_unfollowed_users_are_undeliverable_and_marked(world) -> None:
    await world.resident.text("o-gone", "帮助")
    world.fake.oa.followers.discard("o-gone")  # unfollowed; the event never reached us
    row = await _notify(world, "o-gone", "任务 #7 已完成")
    assert row.status == "undeliverable" and "43004" in (row.error or "")
    async with world.chat.sessions() as s:
        ident = (await s.execute(select(ChannelIdentity).where(ChannelIdentity.external_id == "o-gone"))).scalar_one()
        assert ident.reachable is False


async def test_known_unsubscribed_user_is_undeliverable_without_a_call(world) -> None:
    await world.resident.text("o-unsub", "帮助")
    person = await _person(world, "o-unsub")
    async with world.chat.sessions() as s:
        row = await enqueue_to_person(s, person=person, text="稍后的通知", now=world.chat.clock.now())
        await s.commit()
    await world.resident.event("o-unsub", "unsubscribe")
    calls = len(world.fake.oa.calls)
    await world.settle()
    async with world.chat.sessions() as s:
        assert (await s.get(OutboxMessage, row.id)).status == "undeliverable"
    assert len(world.fake.oa.calls) == calls


async def test_daily_quota_backs_off_and_is_reported(world, caplog) -> None:
    await world.resident.text("o-quota", "帮助")
    world.fake.oa.quotas["message/custom/send"] = 0
    with caplog.at_level(logging.ERROR):
        row = await _notify(world, "o-quota", "第一条")
    assert row.status == "pending" and "45009" in (row.error or "")
    assert any("45009" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    assert [code for _, _, code in world.oa.api.incidents] == [45009]
    calls = len(world.fake.oa.calls)
    await world.settle()  # held back: no call reaches WeChat while backing off
    assert len(world.fake.oa.calls) == calls
    world.fake.oa.quotas.clear()
    world.chat.clock.advance(minutes=16)
    await world.resident.text("o-quota", "帮助")
    await world.settle()
    assert world.fake.oa.texts_to("o-quota") == ["第一条"]


async def test_quota_refusal_raises_until_the_backoff_ends(world) -> None:
    world.fake.oa.quotas["menu/create"] = 0
    try:
        await world.oa.install_menu()
    except QuotaExceeded as exc:
        assert exc.errcode == 45009 and exc.until > world.chat.clock.now()
    else:
        raise AssertionError("expected a quota refusal")


async def test_install_menu_and_get_media(world) -> None:
    await world.oa.install_menu()
    assert world.fake.oa.menus == [DEFAULT_MENU]
    names = [b["name"] for b in DEFAULT_MENU["button"]]
    assert names[:2] == ["点单", "我的"]
    world.fake.oa.media["MEDIA-1"] = b"\xff\xd8jpeg-bytes"
    assert await world.oa.get_media("wechat:MEDIA-1") == b"\xff\xd8jpeg-bytes"
