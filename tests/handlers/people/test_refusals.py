"""The people actions check who acts themselves: a refusal is audited with its reason and changes nothing.

Called directly, past the command's own checks (is it a group chat, is a contact attached).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from handlers.core.act import Act, Refused
from handlers.people.actions.accounts import Account, join_team, link_contact
from handlers.people.actions.groups import Chat, bind_group, unbind_group
from storage.models import AuditEntry, Person, TeamGroup, metadata

TZ = ZoneInfo("Asia/Shanghai")
GROUP = Chat("test", "-100999")


async def _rows(session) -> dict[str, int]:
    """How many rows each table holds, but the audit log."""
    return {t.name: (await session.execute(select(func.count()).select_from(t))).scalar_one()
            for t in metadata.sorted_tables if t.name != "audit_log"}


ATTEMPTS: dict[str, tuple[str, Callable[[Act], Awaitable[object]], str]] = {
    "join": ("新队员", lambda act: join_team(act, invite_code="NOPE", name="", account=Account("test", "x1")),
             "邀请码不对"),
    "link_contact": ("新队员", lambda act: link_contact(act, phone=None, account=Account("test", "x1")),
                     "只能分享您本人的手机号"),
    "bind_group": ("姜兆彤", lambda act: bind_group(act, chat=GROUP, query=""), "只有队长可以把群绑定到队伍"),
    "unbind_group": ("姜兆彤", lambda act: unbind_group(act, chat=GROUP), "只有「科技服务队」的队长可以解绑本群"),
}


@pytest.mark.parametrize("action", sorted(ATTEMPTS))
async def test_a_refused_action_is_audited_with_its_reason_and_changes_nothing(chat, action: str) -> None:
    who, attempt, told = ATTEMPTS[action]
    await chat.person_id(who)
    async with chat.sessions() as s:
        s.add(TeamGroup(team_id=chat.ids["KJ"], platform=GROUP.platform, chat_id=GROUP.chat_id, title="科技服务队群"))
        await s.commit()
    async with chat.sessions() as s:
        before = await _rows(s)
        outcome = await attempt(Act(session=s, now=chat.clock.now(), tz=TZ, actor=await s.get(Person, chat.ids[who])))
        await s.commit()
    assert isinstance(outcome, Refused) and told in outcome.reason
    async with chat.sessions() as s:
        assert await _rows(s) == before
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.outcome == "refused"))).scalars().all()
    assert [(a.action, a.actor_id, a.detail["reason"]) for a in refused] == [(action, chat.ids[who], outcome.reason)]


async def test_binding_a_group_bound_to_another_team_is_refused_with_that_team(chat) -> None:
    async with chat.sessions() as s:
        s.add(TeamGroup(team_id=chat.ids["WY"], platform=GROUP.platform, chat_id=GROUP.chat_id, title="文艺群"))
        await s.commit()
    async with chat.sessions() as s:
        act = Act(session=s, now=chat.clock.now(), tz=TZ, actor=await s.get(Person, chat.ids["陈刚"]))
        outcome = await bind_group(act, chat=GROUP, query="")
        await s.commit()
    assert isinstance(outcome, Refused) and "已经绑定了「文艺志愿服务队」" in outcome.reason
    async with chat.sessions() as s:
        assert [g.team_id for g in (await s.execute(select(TeamGroup))).scalars()] == [chat.ids["WY"]]
        audit = (await s.execute(select(AuditEntry))).scalar_one()
    assert (audit.action, audit.outcome, audit.target_id) == ("bind_group", "refused", chat.ids["KJ"])
