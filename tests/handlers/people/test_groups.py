"""绑定群: a captain binds a group to the team; tasks then go there, and the card follows who took it."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from handlers.core.messages import InboundMessage, OutboundMessage
from storage.models import AuditEntry, RoleGrant, TeamGroup

GROUP = "-100777"
_ids = itertools.count(1)


async def in_group(chat, name: str, text: str, *, group: str = GROUP, button: bool = False) -> list[OutboundMessage]:
    """Send `text` as `name` inside a group chat; return everything the bot sent."""
    pid = await chat.person_id(name)
    msg = InboundMessage(platform="test", user_id=f"u{pid}", chat_id=group, chat_type="group", text=text,
                         message_id=f"g{next(_ids)}", user_name=name, is_button=button)
    before = len(chat.channel.sent)
    await chat.engine.handle(msg)
    await chat.relay.deliver_pending()
    return chat.channel.sent[before:]


def to_group(out: list[OutboundMessage], group: str = GROUP) -> list[OutboundMessage]:
    return [m for m in out if m.address == group and m.person_id is None]


async def bindings(chat) -> list[tuple[int, str]]:
    async with chat.sessions() as s:
        return [(g.team_id, g.chat_id) for g in (await s.execute(select(TeamGroup))).scalars()]


async def test_captain_binds_the_group_and_it_is_audited(chat) -> None:
    out = await in_group(chat, "陈刚", "/bindgroup@xinfeng_bot")
    assert "已绑定为「科技服务队」的队伍群" in to_group(out)[-1].text
    assert await bindings(chat) == [(chat.ids["KJ"], GROUP)]
    async with chat.sessions() as s:
        audit = (await s.execute(select(AuditEntry).where(AuditEntry.action == "bind_group"))).scalar_one()
        assert audit.actor_id == chat.ids["陈刚"] and audit.target_id == chat.ids["KJ"] and audit.outcome == "ok"
    out = await in_group(chat, "陈刚", "绑定群")
    assert "已经是「科技服务队」的队伍群" in to_group(out)[-1].text


async def test_only_a_captain_only_in_a_group(chat) -> None:
    out = await in_group(chat, "姜兆彤", "/bindgroup")
    assert "只有队长" in to_group(out)[-1].text
    out = await chat.send("陈刚", "/bindgroup")
    assert "在群里发送 /bindgroup" in chat.last_to("陈刚", out)
    assert await bindings(chat) == []
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.outcome == "refused"))).scalars().all()
        assert [a.action for a in refused] == ["bind_group"]


async def test_captain_of_several_teams_names_the_team(chat) -> None:
    async with chat.sessions() as s:
        s.add(RoleGrant(person_id=chat.ids["陈刚"], role="captain", team_id=chat.ids["WY"]))
        await s.commit()
    out = await in_group(chat, "陈刚", "/bindgroup")
    ask = to_group(out)[-1]
    assert "请选择" in ask.text
    assert [b.data for b in ask.buttons] == ["/bindgroup KJ", "/bindgroup WY"]
    out = await in_group(chat, "陈刚", "/bindgroup 城关综合服务分队")
    assert "您不是「城关综合服务分队」的队长" in to_group(out)[-1].text
    out = await in_group(chat, "陈刚", "/bindgroup WY", button=True)
    assert "「文艺志愿服务队」" in to_group(out)[-1].text
    assert await bindings(chat) == [(chat.ids["WY"], GROUP)]
    # The same group cannot serve a second team.
    out = await in_group(chat, "陈刚", "/bindgroup 科技")
    assert "已经绑定了「文艺志愿服务队」" in to_group(out)[-1].text
    assert await bindings(chat) == [(chat.ids["WY"], GROUP)]


async def test_unbind_is_for_that_teams_captain(chat) -> None:
    await in_group(chat, "陈刚", "/bindgroup")
    out = await in_group(chat, "姜兆彤", "/unbindgroup")
    assert "只有「科技服务队」的队长" in to_group(out)[-1].text
    out = await in_group(chat, "陈刚", "解绑群")
    assert "已与「科技服务队」解绑" in to_group(out)[-1].text
    assert await bindings(chat) == []


async def test_tasks_go_to_the_bound_group_and_the_card_follows_who_took_it(chat) -> None:
    await in_group(chat, "陈刚", "/bindgroup")
    await chat.send("王大娘", "大棚里的黄瓜叶子发黄，想请农技员来指导，电话13900000001")
    out = await chat.send("王大娘", "确认")
    card = to_group(out)[-1]
    assert "📋 新任务 #1" in card.text and "139****0001" in card.text and "13900000001" not in card.text
    assert [b.data for b in card.buttons] == ["接单 #1"] and card.ref == "task:1"

    # A stranger presses: a polite refusal, nothing changes.
    out = await in_group(chat, "张文艺", "接单 #1", button=True)
    assert "只有这些队伍的队员可以接单" in to_group(out)[-1].text

    out = await in_group(chat, "姜兆彤", "接单 #1", button=True)
    public = to_group(out)
    assert any("联系方式已私信发给您" in m.text for m in public)
    assert all("13900000001" not in m.text for m in public)  # the phone never reaches the group
    assert "13900000001" in chat.last_to("姜兆彤", out)  # but the volunteer gets it privately
    edit = [m for m in public if m.kind == "edit"]
    assert len(edit) == 1 and edit[0].ref == "task:1"
    assert "✅ 已由 姜兆彤 接单" in edit[0].text and edit[0].buttons == []

    out = await in_group(chat, "刘农技", "接单 #1", button=True)
    assert "已经有人接了" in to_group(out)[-1].text

    # Given back, the card offers the task again.
    out = await chat.send("姜兆彤", "放弃 #1")
    edit = [m for m in to_group(out) if m.kind == "edit"]
    assert edit and "已由" not in edit[0].text and [b.data for b in edit[0].buttons] == ["接单 #1"]
