"""Joining proves who you are (issue 12): a name and an invite code open a request, never a link.

The attack from the issue, on the test county: a stranger sends `加入 KJ2026 陈刚` (陈刚 captains
科技服务队; the code and the name are both public). The account stays the stranger's; the
admins over the team are asked (a captain's row is never approved by a captain), 陈刚's own
account is told and given a one-time code; only an approval or that code links the account.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from storage.models import AuditEntry, ChannelIdentity, PointsAccount, Team
from storage.models.trust import LinkRequest


async def _account_person(chat, name: str) -> int:
    """The person the chat account the harness uses for `name` now points at."""
    async with chat.sessions() as s:
        ident = (await s.execute(select(ChannelIdentity).where(
            ChannelIdentity.platform == "test", ChannelIdentity.external_id == f"u{chat.ids[name]}"))).scalar_one()
        return ident.person_id


async def _audits(chat, action: str) -> list[AuditEntry]:
    async with chat.sessions() as s:
        return list((await s.execute(select(AuditEntry).where(AuditEntry.action == action)
                                     .order_by(AuditEntry.id))).scalars())


async def test_a_stranger_naming_the_captain_is_not_linked_and_the_captain_and_admins_are_told(chat) -> None:
    await chat.person_id("陈刚")  # the real captain has a linked account
    out = await chat.send("陌生人", "加入 KJ2026 陈刚")
    reply = chat.last_to("陌生人", out)
    assert "需要先确认是本人" in reply and "中心管理员" in reply
    # The account is still the stranger's own row, not the captain's.
    assert await _account_person(chat, "陌生人") == chat.ids["陌生人"] != chat.ids["陈刚"]
    # The real captain hears of it on his own account, with a code only he can pass on.
    warned = chat.last_to("陈刚", out)
    assert "申请以您（陈刚）的身份" in warned and re.search(r"验证码 \d{6}", warned)
    # The admin over the team is asked, with the asking account's display name; a captain is not an approver.
    asked = chat.last_to("中心管理员", out)
    assert "「陌生人」（test 账号）" in asked and "需要管理员确认" in asked
    assert [b.data for m in out if m.person_id == chat.ids["中心管理员"] for b in m.buttons] == \
        ["同意绑定 #1", "拒绝绑定 #1"]
    # As himself, the stranger can neither broadcast to the team nor accept its tasks.
    assert "队长" in chat.last_to("陌生人", await chat.send("陌生人", "广播 带身份证来领补贴"))
    await chat.send("王大娘", "我家果树生病了，想请农技员来看看")
    await chat.send("王大娘", "确认")
    assert "已接单" not in chat.last_to("陌生人", await chat.send("陌生人", "接单 #1"))
    # The audit names the person claimed and the team.
    [asked_row] = await _audits(chat, "link_request")
    assert (asked_row.target_type, asked_row.target_id) == ("person", chat.ids["陈刚"])
    assert asked_row.detail["team_id"] == chat.ids["KJ"] and asked_row.detail["code_sent"] is True
    assert await _audits(chat, "link_identity") == []


async def test_a_captain_may_not_approve_a_captains_row_nor_a_request_of_another_team(chat) -> None:
    await chat.send("陌生人", "加入 KJ2026 陈刚")
    # 陈刚 cannot approve himself; 周台吉 (another team) cannot approve at all.
    for who in ("陈刚", "周台吉", "城关所长"):  # 城关所长 administers 城关, not the county team KJ
        out = await chat.send(who, "同意绑定 #1")
        assert "可以确认" in chat.last_to(who, out), who
    refused = [a for a in await _audits(chat, "link_approve") if a.outcome == "refused"]
    assert [(a.actor_id, a.target_type, a.target_id) for a in refused] == [
        (chat.ids[w], "link_request", 1) for w in ("陈刚", "周台吉", "城关所长")]
    assert await _account_person(chat, "陌生人") == chat.ids["陌生人"]
    # The county admin approves: now the account is 陈刚's, audited with the method and the approver.
    out = await chat.send("中心管理员", "同意绑定 #1")
    assert "已同意" in chat.last_to("中心管理员", out)
    assert "这个账号现在是「陈刚」" in chat.last_to("陈刚", out)
    assert await _account_person(chat, "陌生人") == chat.ids["陈刚"]
    [link] = await _audits(chat, "link_identity")
    assert (link.target_id, link.detail["method"], link.detail["approved_by"]) == \
        (chat.ids["陈刚"], "approved", chat.ids["中心管理员"])
    # Decided once: a second press says so.
    assert "已经处理过" in chat.last_to("中心管理员", await chat.send("中心管理员", "同意绑定 #1"))


async def test_a_volunteers_row_is_approved_by_the_captain_and_refusal_tells_the_asker(chat) -> None:
    out = await chat.send("新手机", "加入 KJ2026 刘农技")
    assert "陈刚" in chat.last_to("新手机", out)
    assert [b.data for m in out if m.person_id == chat.ids["陈刚"] for b in m.buttons] == ["同意绑定 #1", "拒绝绑定 #1"]
    out = await chat.send("陈刚", "拒绝绑定 #1")
    assert "已拒绝" in chat.last_to("陈刚", out) and "没有通过" in chat.last_to("新手机", out)
    assert await _account_person(chat, "新手机") == chat.ids["新手机"]


async def test_the_one_time_code_proves_it_and_wrong_codes_run_out(chat) -> None:
    await chat.person_id("刘农技")
    out = await chat.send("新手机", "加入 KJ2026 刘农技")
    code = re.search(r"验证码 (\d{6})", chat.last_to("刘农技", out)).group(1)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert "还可以再试 4 次" in chat.last_to("新手机", await chat.send("新手机", f"验证码 {wrong}"))
    out = await chat.send("新手机", f"验证码 {code}")
    assert "验证成功" in chat.last_to("新手机", out)
    assert await _account_person(chat, "新手机") == chat.ids["刘农技"]
    # The person's other account hears that a new account was linked.
    assert any("刚刚绑定了一个新的" in t for t in chat.to("刘农技", out))
    [link] = await _audits(chat, "link_identity")
    assert link.detail["method"] == "code" and link.target_id == chat.ids["刘农技"]


async def test_five_wrong_codes_and_the_code_no_longer_works(chat) -> None:
    await chat.person_id("刘农技")
    out = await chat.send("新手机", "加入 KJ2026 刘农技")
    code = re.search(r"验证码 (\d{6})", chat.last_to("刘农技", out)).group(1)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        await chat.send("新手机", f"验证码 {wrong}")
    assert "错误次数太多" in chat.last_to("新手机", await chat.send("新手机", f"验证码 {code}"))
    assert await _account_person(chat, "新手机") == chat.ids["新手机"]


async def test_a_newcomer_on_no_roster_joins_as_themselves(chat) -> None:
    out = await chat.send("新队员", "加入 KJ2026 新队员")
    assert "新队员" in chat.last_to("陈刚", out)
    assert await _audits(chat, "link_request") == [] and await _account_person(chat, "新队员") == chat.ids["新队员"]
    async with chat.sessions() as s:  # a volunteer now: the points account opened with the membership
        [account] = (await s.execute(select(PointsAccount).where(PointsAccount.person_id == chat.ids["新队员"]))).scalars()
    assert account.balance == 0 and account.code in chat.last_to("新队员", await chat.send("新队员", "我的"))


async def test_rotating_the_invite_code_retires_the_old_one(chat) -> None:
    out = await chat.send("陈刚", "换邀请码")
    new = re.search(r"新邀请码：(\w+)", chat.last_to("陈刚", out)).group(1)
    assert new != "KJ2026"
    assert "邀请码不对" in chat.last_to("新队员", await chat.send("新队员", "加入 KJ2026"))
    assert "科技服务队" in chat.last_to("新队员", await chat.send("新队员", f"加入 {new}"))
    [rotated] = await _audits(chat, "invite_rotate")
    assert (rotated.target_type, rotated.target_id, rotated.detail["old"]) == ("team", chat.ids["KJ"], "KJ2026")
    # A volunteer may not rotate it; the refusal is audited.
    assert "只有队长或管理员" in chat.last_to("姜兆彤", await chat.send("姜兆彤", "换邀请码"))
    async with chat.sessions() as s:
        assert (await s.get(Team, chat.ids["KJ"])).invite_code == new
        assert (await s.execute(select(LinkRequest))).scalars().all() == []
