"""广播 and 免打扰/开启通知, through the fake channel: who may broadcast, and who receives it."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry, OutboxMessage, Person, RoleGrant, TeamGroup

NOTICE = "广播 明天上午9点在村文化广场集合，请大家准时到"


async def test_captain_broadcasts_to_the_group_and_opted_in_members(chat) -> None:
    async with chat.sessions() as s:
        s.add(TeamGroup(team_id=chat.ids["KJ"], platform="test", chat_id="g-kj", title="科技服务队群"))
        await s.commit()
    await chat.send("孙科技", "免打扰")
    out = await chat.send("陈刚", NOTICE)
    reply = chat.last_to("陈刚", out)
    assert "已广播到「科技服务队」：群 1 个，队员私信 2 人" in reply and "1 人开了免打扰" in reply
    text = "📢「科技服务队」队长 陈刚：\n明天上午9点在村文化广场集合，请大家准时到"
    assert chat.last_to("姜兆彤", out) == text and chat.last_to("刘农技", out) == text
    assert not chat.to("孙科技", out)
    assert [m.text for m in out if m.address == "g-kj"] == [text]
    assert not chat.to("张文艺", out)
    async with chat.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.ref == f"broadcast:{chat.ids['KJ']}"))).scalars().all()
        assert len(rows) == 3  # every copy went through the outbox
        entry = (await s.execute(select(AuditEntry).where(AuditEntry.action == "broadcast"))).scalar_one()
        assert entry.detail == {"groups": 1, "direct": 2, "chars": len(NOTICE) - 3}


async def test_muting_and_unmuting(chat) -> None:
    assert "已开启免打扰" in chat.last_to("孙科技", await chat.send("孙科技", "免打扰"))
    assert "已经开着免打扰" in chat.last_to("孙科技", await chat.send("孙科技", "免打扰"))
    async with chat.sessions() as s:
        assert not (await s.get(Person, chat.ids["孙科技"])).dm_opt_in
    assert "已开启私信通知" in chat.last_to("孙科技", await chat.send("孙科技", "开启通知"))
    assert "本来就是开着的" in chat.last_to("孙科技", await chat.send("孙科技", "/unmute"))
    out = await chat.send("陈刚", NOTICE)
    assert chat.to("孙科技", out)


async def test_only_the_teams_captain_or_an_admin_over_it_may_broadcast(chat) -> None:
    out = await chat.send("刘农技", NOTICE)
    assert chat.last_to("刘农技", out) == "只有本队队长可以广播。"
    assert not chat.to("姜兆彤", out)
    out = await chat.send("陈刚", "广播 队伍:蓬莱社区志愿服务队 大家好")
    assert "不是「蓬莱社区志愿服务队」的队长" in chat.last_to("陈刚", out)
    assert not chat.to("赵志愿", out)
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry.actor_id).where(
            AuditEntry.action == "broadcast", AuditEntry.outcome == "refused"))).scalars().all()
    assert refused == [chat.ids["刘农技"], chat.ids["陈刚"]]
    # The station admin speaks for the team at their station; the institute admin names it.
    out = await chat.send("蓬莱站长", "广播 周日理发活动改到下午")
    assert "「蓬莱社区志愿服务队」管理员 蓬莱站长" in chat.last_to("赵志愿", out)
    out = await chat.send("城关所长", "广播 队伍:蓬莱社区志愿服务队 明天停水")
    assert "明天停水" in chat.last_to("钱志愿", out)


async def test_a_captain_of_two_teams_chooses_where(chat) -> None:
    async with chat.sessions() as s:
        s.add(RoleGrant(person_id=chat.ids["陈刚"], role="captain", team_id=chat.ids["WY"]))
        await s.commit()
    out = await chat.send("陈刚", "广播 排练改到周五")
    assert "发到哪个队伍" in chat.last_to("陈刚", out)
    assert not chat.to("张文艺", out)
    out = await chat.send("陈刚", "2")
    assert "排练改到周五" in chat.last_to("张文艺", out) and not chat.to("刘农技", out)


async def test_empty_and_overlong_broadcasts(chat) -> None:
    assert "广播 内容" in chat.last_to("陈刚", await chat.send("陈刚", "广播"))
    assert "太长了" in chat.last_to("陈刚", await chat.send("陈刚", "广播 " + "长" * 700))
