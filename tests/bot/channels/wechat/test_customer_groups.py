"""WeCom customer groups (客户群): binding, one task per captain, confirmation, reminder, fallback, quota.

A captain (陈刚, WeCom account "chengang") owns two ordinary WeChat groups of 科技服务队; the fake
WeCom server (fake_customer_groups) plays WeCom's side, including the captain's tap.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.channels.wecom.customer_groups import CustomerGroupsApi, TaskRefused
from bot.channels.wecom.group_sender import CustomerGroupSender, quota_period
from storage.messaging.group_tasks import quota_used
from storage.models import CUSTOMER_PLATFORM, AuditEntry, GroupMessageTask, OutboxMessage, Person, TeamGroup
from storage.people.identities import link_identity
from tests.bot.channels.wechat.fake_customer_groups import install

TZ = ZoneInfo("Asia/Shanghai")
GROUPS = {"wrKJ1": ("科技服务队一群", 120), "wrKJ2": ("科技服务队二群", 80)}


@pytest.fixture
async def cg(world):
    """The world with customer contact on the fake, 陈刚 on WeCom, his two groups known, 刘农技 muted."""
    customer = install(world.fake)
    world.fake.wecom.members.add("chengang")
    for chat_id, (name, members) in GROUPS.items():
        customer.add_group(chat_id, name, "chengang", members)
    customer.add_group("wrOther", "别人的群", "someone", 30)
    async with world.chat.sessions() as s:
        await link_identity(s, platform="wecom", external_id="chengang", person_id=world.chat.ids["陈刚"],
                            now=world.chat.clock.now())
        (await s.get(Person, world.chat.ids["刘农技"])).dm_opt_in = False
        await s.commit()
    world.customer = customer
    world.sender = make_sender(world)
    assert await world.sender.refresh() == 3
    return world


def make_sender(world, quota: str = "month") -> CustomerGroupSender:
    return CustomerGroupSender(world.chat.sessions, world.chat.clock, CustomerGroupsApi(world.wecom.api), tz=TZ,
                               quota=quota, remind_after=timedelta(hours=2), deadline=timedelta(hours=6))


async def say(world, text: str) -> str:
    answer = await world.member.text("chengang", text)
    await world.settle()
    return answer.reply or world.fake.wecom.texts_to("chengang")[-1]


async def bind_both(world) -> None:
    assert "已把客户群「科技服务队一群」（120 人）绑定到「科技服务队」" in await say(world, "绑定客户群 科技服务队一群")
    assert "已把客户群「科技服务队二群」（80 人）" in await say(world, "绑定客户群 科技服务队二群")


async def rows(world, **where) -> list[OutboxMessage]:
    async with world.chat.sessions() as s:
        stmt = select(OutboxMessage).filter_by(**where).order_by(OutboxMessage.id)
        return list((await s.execute(stmt)).scalars())


@pytest.mark.both_backends
async def test_captain_binds_broadcasts_confirms_and_the_result_is_recorded(cg) -> None:
    await bind_both(cg)
    async with cg.chat.sessions() as s:
        bound = (await s.execute(select(TeamGroup).where(TeamGroup.platform == CUSTOMER_PLATFORM))).scalars().all()
        audit = (await s.execute(select(AuditEntry).where(AuditEntry.action == "customer_group_bind"))).scalars().all()
    assert sorted(g.chat_id for g in bound) == ["wrKJ1", "wrKJ2"] and len(audit) == 2
    assert "群 2 个" in await say(cg, "广播 明天上午9点在村文化广场集合")
    stats = await cg.sender.run_once()
    assert (stats.tasks, stats.groups) == (1, 2)  # one task for the captain, covering both groups
    [task] = cg.customer.waiting_for("chengang")
    assert sorted(task.chat_ids) == ["wrKJ1", "wrKJ2"] and "明天上午9点" in task.text and "公众号" in task.text
    await cg.settle()
    notice = cg.fake.wecom.texts_to("chengang")[-1]
    assert notice.startswith("有 1 条群发待确认：明天上午9点在村文化广场集合，发送到 科技服务队一群、科技服务队二群")
    assert [r.status for r in await rows(cg, platform=CUSTOMER_PLATFORM)] == ["confirming", "confirming"]
    cg.customer.confirm(task.msgid, cg.chat.clock.now())
    stats = await cg.sender.run_once()
    assert stats.sent == 2 and stats.direct == 0
    sent = await rows(cg, platform=CUSTOMER_PLATFORM)
    assert [(r.status, r.external_message_id) for r in sent] == [("sent", task.msgid)] * 2
    assert cg.customer.texts_in("wrKJ1") == [task.text]
    async with cg.chat.sessions() as s:
        assert (await s.execute(select(GroupMessageTask.status))).scalars().all() == ["sent"]
        period, _ = quota_period("month", cg.chat.clock.now().astimezone(TZ))
        assert await quota_used(s, "wrKJ1", period) == 1
    # The muted member was reached by the group: no direct message for him.
    assert await rows(cg, person_id=cg.chat.ids["刘农技"], ref=f"broadcast:{cg.chat.ids['KJ']}") == []


async def test_unconfirmed_task_is_reminded_once_then_members_are_told_directly(cg) -> None:
    await bind_both(cg)
    await say(cg, "广播 周六停电，活动改到下周")
    await cg.sender.run_once()
    [task] = cg.customer.waiting_for("chengang")
    cg.chat.clock.advance(hours=2, minutes=1)
    assert (await cg.sender.run_once()).reminded == 1
    cg.chat.clock.advance(hours=1)
    assert (await cg.sender.run_once()).reminded == 0  # one reminder only
    assert task.reminders == 1
    cg.chat.clock.advance(hours=3)  # past the 6-hour deadline
    stats = await cg.sender.run_once()
    assert task.status == "cancelled" and stats.fallen_back == 2
    groups = await rows(cg, platform=CUSTOMER_PLATFORM)
    assert {r.status for r in groups} == {"undeliverable"} and "到期没有确认" in groups[0].error
    ref = f"broadcast:{cg.chat.ids['KJ']}"
    # 刘农技 (muted, who relied on the group) now gets it directly — once, though both groups fell back;
    # opted-in members already had it and are not told twice.
    assert len(await rows(cg, person_id=cg.chat.ids["刘农技"], ref=ref)) == 1
    assert len(await rows(cg, person_id=cg.chat.ids["姜兆彤"], ref=ref)) == 1
    await cg.settle()
    assert "到期没有确认，已撤回群发" in cg.fake.wecom.texts_to("chengang")[-1]
    async with cg.chat.sessions() as s:
        period, _ = quota_period("month", cg.chat.clock.now().astimezone(TZ))
        assert await quota_used(s, "wrKJ1", period) == 0  # nothing reached the group: the slot is given back


@pytest.mark.both_backends
async def test_spent_quota_sends_the_other_ways_and_tells_the_captain(cg) -> None:
    cg.sender = make_sender(cg, quota="day")  # the organisation's rule: one group message a day
    await bind_both(cg)
    await say(cg, "广播 第一条")
    await cg.sender.run_once()
    [task] = cg.customer.waiting_for("chengang")
    cg.customer.confirm(task.msgid, cg.chat.clock.now())
    await cg.sender.run_once()
    await say(cg, "广播 第二条")
    stats = await cg.sender.run_once()
    assert stats.tasks == 0 and stats.fallen_back == 2 and cg.customer.waiting_for("chengang") == []
    await cg.settle()
    told = cg.fake.wecom.texts_to("chengang")
    assert any("「科技服务队一群」本期的群发次数（1 条）已用完，「第二条」已改为私信" in t for t in told)
    second = [r for r in await rows(cg, person_id=cg.chat.ids["刘农技"]) if "第二条" in r.text]
    assert len(second) == 1
    cg.chat.clock.advance(days=1)  # a new day, a new slot
    await say(cg, "广播 第三条")
    assert (await cg.sender.run_once()).tasks == 1


async def test_wecom_side_quota_refusal_falls_back_at_the_poll(cg) -> None:
    cg.customer.quota_per_month = 0  # WeCom says the groups took all they may this month
    await bind_both(cg)
    await say(cg, "广播 测试")
    await cg.sender.run_once()
    [task] = cg.customer.waiting_for("chengang")
    cg.customer.confirm(task.msgid, cg.chat.clock.now())
    stats = await cg.sender.run_once()
    assert stats.sent == 0 and stats.fallen_back == 2
    assert {r.error for r in await rows(cg, platform=CUSTOMER_PLATFORM)} == {"企业微信：群发次数已满"}


async def test_task_offers_never_wait_for_a_captain(cg) -> None:
    await bind_both(cg)
    async with cg.chat.sessions() as s:
        s.add(OutboxMessage(team_id=cg.chat.ids["KJ"], platform=CUSTOMER_PLATFORM, address="wrKJ1",
                            recipient_label="科技服务队一群", text="🚨 紧急求助：王大娘家漏水", buttons=[], kind="notice",
                            ref="task:7", created_at=cg.chat.clock.now()))
        await s.commit()
    stats = await cg.sender.run_once()
    assert stats.tasks == 0 and cg.customer.tasks == {}
    assert stats.direct == 4  # every member of the team, at once
    assert [r.status for r in await rows(cg, platform=CUSTOMER_PLATFORM)] == ["undeliverable"]


async def test_binding_refusals(cg) -> None:
    assert "没有找到您做群主、名叫「别人的群」" in await say(cg, "绑定客户群 别人的群")
    assert "您做群主的客户群：科技服务队一群、科技服务队二群" in await say(cg, "绑定客户群")
    assert "有几个客户群符合「科技服务队」" in await say(cg, "绑定客户群 科技服务队")


async def test_fake_speaks_wecoms_error_codes(cg) -> None:
    api = CustomerGroupsApi(cg.wecom.api)
    refused = await api.create_task("stranger", ["wrKJ1"], "x")
    assert isinstance(refused, TaskRefused) and refused.errcode == 40003 and refused.gone
    created = await api.create_task("chengang", ["wrKJ1", "wrOther"], "x")
    assert created.failed == ("wrOther",)  # not his group
    assert await api.group("nope") is None  # 40050
    assert await api.cancel(created.msgid) is True
    assert await api.remind(created.msgid) is False  # 41063: already cancelled


async def test_transcript_broadcast_confirm_and_a_spent_quota(cg, capsys) -> None:
    """The report's transcript: 广播 in the WeCom app → pending notice → confirmation → recorded → quota spent."""
    cg.sender = make_sender(cg, quota="day")
    lines: list[str] = []

    async def captain(text: str) -> None:
        lines.append(f"陈刚（企业微信）> {text}")
        lines.append(f"  bot> {await say(cg, text)}")

    async def round_() -> None:
        before = len(cg.fake.wecom.texts_to("chengang"))
        stats = await cg.sender.run_once()
        await cg.settle()
        lines.append(f"  [群发轮次] 任务 {stats.tasks} · 群 {stats.groups} · 已发 {stats.sent} · 改私信的群 "
                     f"{stats.fallen_back} · 私信 {stats.direct}")
        lines.extend(f"  bot → 陈刚> {t}" for t in cg.fake.wecom.texts_to("chengang")[before:])

    await captain("绑定客户群 科技服务队一群")
    await captain("广播 明天上午9点在村文化广场集合，带好工具")
    await round_()
    [task] = cg.customer.waiting_for("chengang")
    lines.append(f"  [企业微信] 陈刚点了「发送」（{task.msgid}）")
    cg.customer.confirm(task.msgid, cg.chat.clock.now())
    await round_()
    [row] = [r for r in await rows(cg, platform=CUSTOMER_PLATFORM)]
    lines.append(f"  [outbox] 科技服务队一群: {row.status}, 任务 {row.external_message_id}")
    lines.append(f"  [群里收到] {cg.customer.texts_in('wrKJ1')[0]!r}")
    await captain("广播 下午改到村委会")
    await round_()
    direct = [r for r in await rows(cg, person_id=cg.chat.ids["刘农技"]) if "村委会" in r.text]
    lines.append(f"  [私信] 刘农技（免打扰，靠群）: {len(direct)} 条")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert "有 1 条群发待确认：明天上午9点在村文化广场集合，带好工具，发送到 科技服务队一群" in "\n".join(lines)
    assert row.status == "sent" and len(direct) == 1
    assert any("本期的群发次数（1 条）已用完，「下午改到村委会」已改为私信" in line for line in lines)


async def test_group_message_carries_the_official_accounts_join_qr(cg) -> None:
    """Villagers cannot answer in the group: the message brings the Official Account's QR (scene join_<code>)."""
    from bot.channels.deeplinks import qr_png

    scenes: list[str] = []

    async def scene_qr(scene: str) -> bytes:
        scenes.append(scene)
        return qr_png(f"http://weixin.qq.com/q/{scene}")

    cg.sender.scene_qr = scene_qr
    await bind_both(cg)
    await say(cg, "广播 第一条")
    await say(cg, "广播 第二条")
    await cg.sender.run_once()
    first, second = cg.customer.waiting_for("chengang")
    assert first.images == ["join_KJ2026.png"] and "扫下面的二维码关注本站公众号" in first.text
    assert scenes == ["join_KJ2026"] and second.images == first.images  # uploaded once, used by both
    cg.customer.confirm(first.msgid, cg.chat.clock.now())
    assert cg.customer.texts_in("wrKJ1")[-1] == "[image] join_KJ2026.png"
    answer = await cg.resident.event("o-villager", "subscribe", key="qrscene_join_KJ2026")
    assert "科技服务队" in (answer.reply or "")  # the scan joins (or asks to join) the team


async def test_member_counts_are_refreshed_daily(cg) -> None:
    from storage.people.customer_groups import known_groups

    cg.customer.groups["wrKJ1"]["members"].append("wm-new")
    await cg.sender.run_once()  # refreshed less than a day ago: not yet
    async with cg.chat.sessions() as s:
        assert {g.chat_id: g.member_count for g in await known_groups(s)}["wrKJ1"] == 120
    cg.chat.clock.advance(days=1)
    await cg.sender.run_once()
    async with cg.chat.sessions() as s:
        assert {g.chat_id: g.member_count for g in await known_groups(s)}["wrKJ1"] == 121
