"""邀请码: captains and admins get the team's invite to hand out; anyone else is told how invites work."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from handlers.core.messages import InboundMessage
from storage.messaging.deeplinks import DEEP_LINK_QR
from storage.models import AuditEntry, Team, TeamMember
from storage.people.identities import link_identity

_ids = itertools.count(1)


async def as_account(chat, name: str, text: str, platform: str) -> list:
    """`name` writes from their own account on `platform`; the outbox rows written."""
    account = f"{platform}-{chat.ids[name]}"
    async with chat.sessions() as s:
        await link_identity(s, platform=platform, external_id=account, person_id=chat.ids[name], now=chat.clock.now())
        await s.commit()
    return await chat.engine.handle(InboundMessage(platform=platform, user_id=account, chat_id=account, text=text,
                                                   message_id=f"i{next(_ids)}", user_name=name))


async def refusals(chat, action: str) -> list[AuditEntry]:
    async with chat.sessions() as s:
        return list((await s.execute(select(AuditEntry).where(AuditEntry.action == action,
                                                              AuditEntry.outcome == "refused"))).scalars())


@pytest.mark.parametrize("command", ["邀请码", "邀请", "/invite"])
async def test_a_captain_gets_the_invite_code_and_the_words_to_type(chat, command: str) -> None:
    sent = await chat.send("陈刚", command)
    text = chat.last_to("陈刚", sent)
    assert "「科技服务队」的邀请码：KJ2026" in text and "加入 KJ2026 姓名" in text
    # The console and the tests' channel draw no QR code: the words are the whole answer.
    assert "二维码" not in text and sent[-1].attachments == []


@pytest.mark.parametrize("platform", ["telegram", "wechat"])
async def test_where_the_channel_draws_qr_codes_the_reply_asks_for_one(chat, platform: str) -> None:
    rows = await as_account(chat, "陈刚", "邀请码", platform)
    reply = rows[-1]
    assert "加入 KJ2026 姓名" in reply.text
    assert "二维码" not in reply.text  # the channel says so once it drew the code (bot/channels/deeplinks.py)
    assert reply.attachments == [{"kind": DEEP_LINK_QR, "filename": "join_KJ2026.png", "mime": "image/png",
                                  "size": 0}]


async def test_an_admin_of_several_teams_picks_whose_invite(chat) -> None:
    sent = await chat.send("中心管理员", "邀请码")
    assert "要哪个队伍的邀请码" in chat.last_to("中心管理员", sent)
    assert [b.label for b in sent[-1].buttons] == ["科技服务队", "文艺志愿服务队"]
    sent = await chat.send("中心管理员", "2")
    assert "「文艺志愿服务队」的邀请码：WY2026" in chat.last_to("中心管理员", sent)


async def test_an_admin_names_any_team_in_their_subtree(chat) -> None:
    sent = await chat.send("城关所长", "邀请码 蓬莱社区志愿服务队")
    assert "「蓬莱社区志愿服务队」的邀请码：PLD2026" in chat.last_to("城关所长", sent)
    sent = await chat.send("城关所长", "邀请码")  # the one team at their own unit
    assert "「城关综合服务分队」的邀请码：ZH2026" in chat.last_to("城关所长", sent)


async def test_a_captain_gets_no_other_teams_code(chat) -> None:
    sent = await chat.send("陈刚", "邀请码 文艺志愿服务队")
    text = chat.last_to("陈刚", sent)
    assert "您不是「文艺志愿服务队」的队长" in text and "WY2026" not in text
    assert len(await refusals(chat, "invite")) == 1


@pytest.mark.parametrize("command", ["邀请码", "邀请", "/invite", "邀请码是多少"])
async def test_a_villager_asking_for_an_invite_code_is_told_how_invites_work(chat, command: str) -> None:
    sent = await chat.send("王大娘", command)
    text = chat.last_to("王大娘", sent)
    assert "邀请码是志愿服务队的队长发给新队员的" in text and "加入 邀请码 您的姓名" in text
    assert not sent[-1].buttons  # no request draft to confirm
    refused = await refusals(chat, "invite")
    assert [(a.actor_id, a.detail["reason"]) for a in refused] == [(chat.ids["王大娘"], text)]
    assert "2026" not in text  # no team's code leaks


async def test_a_volunteer_is_sent_to_their_captains(chat) -> None:
    sent = await chat.send("刘农技", "邀请码")
    text = chat.last_to("刘农技", sent)
    assert "只有队长可以发邀请码" in text and "「科技服务队」队长：陈刚" in text and "KJ2026" not in text
    sent = await chat.send("钱志愿", "邀请码")
    assert "「蓬莱社区志愿服务队」队长：暂未登记" in chat.last_to("钱志愿", sent)


async def test_a_code_sent_after_邀请码_joins_that_team(chat) -> None:
    sent = await chat.send("王大娘", "邀请码 kj2026")
    assert "欢迎 王大娘 加入「科技服务队」" in chat.last_to("王大娘", sent)
    async with chat.sessions() as s:
        assert await s.get(TeamMember, (chat.ids["KJ"], chat.ids["王大娘"])) is not None


async def test_inviting_someone_over_in_a_request_is_still_a_request(chat) -> None:
    sent = await chat.send("王大娘", "邀请医生明天来家里给我老伴量量血压")
    assert all("邀请码" not in m.text for m in sent)
    assert await refusals(chat, "invite") == []


async def test_help_shows_邀请码_to_captains_only(chat) -> None:
    sent = await chat.send("陈刚", "帮助")
    assert "邀请码 [队伍名] — 新队员入队用的邀请码、链接和二维码" in chat.last_to("陈刚", sent)
    sent = await chat.send("刘农技", "帮助")
    assert "二维码" not in chat.last_to("刘农技", sent)


async def test_a_code_no_link_can_carry_gets_the_words_alone(chat) -> None:
    # Imported codes may be any letters, Chinese ones too; a deep link takes only A-Z a-z 0-9 _ -.
    async with chat.sessions() as s:
        team = await s.get(Team, chat.ids["KJ"])
        team.invite_code = "科技队2026"
        await s.commit()
    rows = await as_account(chat, "陈刚", "邀请码", "telegram")
    assert "「科技服务队」的邀请码：科技队2026" in rows[-1].text and "加入 科技队2026 姓名" in rows[-1].text
    assert "二维码" not in rows[-1].text and not rows[-1].attachments


async def test_a_new_code_comes_with_its_new_link_and_qr_code(chat) -> None:
    """换邀请码 retires the old code's link and QR code too: the captain gets the new ones at once."""
    rows = await as_account(chat, "陈刚", "换邀请码", "telegram")
    reply = rows[-1]
    new = reply.text.split("新邀请码：")[1].split()[0]
    assert new != "KJ2026" and f"加入 {new} 姓名" in reply.text and "之前发出的链接和二维码" in reply.text
    assert reply.attachments == [{"kind": DEEP_LINK_QR, "filename": f"join_{new}.png", "mime": "image/png",
                                  "size": 0}]
