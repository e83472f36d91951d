"""The activities actions check who acts themselves: a refusal is audited with its reason and changes nothing.

The actions are called directly, as a scheduler job or another feature would, past every
check a command makes first — so what these tests see is the action's own check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from handlers.activities.actions.attendance import (
    undo_no_show,
    verify_all_hours,
    verify_hours,
)
from handlers.activities.actions.broadcast import broadcast
from handlers.activities.actions.moral_day import Switch, set_moral_day
from handlers.activities.actions.projects import create_project, record_beneficiaries
from handlers.activities.actions.signups import ActivityPlan, create_activity, sign_up
from handlers.core.act import Act, Refused
from storage.models import AuditEntry, Person, RoleGrant, Team, metadata
from storage.models.activities import Activity
from storage.scheduling.recurrence import Recurrence

TZ = ZoneInfo("Asia/Shanghai")


async def _rows(session) -> dict[str, int]:
    """How many rows each table holds, but the audit log."""
    return {t.name: (await session.execute(select(func.count()).select_from(t))).scalar_one()
            for t in metadata.sorted_tables if t.name != "audit_log"}


async def _publish(chat) -> None:
    await chat.send("陈刚", "活动 明天上午9点 村文化广场 包饺子 限2人")
    await chat.send("陈刚", "确认")


def _plan(now) -> ActivityPlan:
    return ActivityPlan(title="包饺子", starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=1, hours=2))


async def _kj(act: Act) -> Team:
    return (await act.session.execute(select(Team).where(Team.code == "KJ"))).scalar_one()


async def _activity(act: Act) -> Activity:
    return (await act.session.execute(select(Activity))).scalar_one()


Attempt = Callable[[Act], Awaitable[object]]

ATTEMPTS: dict[str, tuple[str, Attempt, str]] = {
    # audit name: (who tries, the attempt, what they are told)
    "activity_create": ("刘农技", lambda act: _create(act), "只有本队队长或管理员可以发布活动。"),
    "broadcast": ("刘农技", lambda act: _broadcast(act), "只有「科技服务队」的队长可以向它广播。"),
    "signup": ("王大娘", lambda act: _sign_up(act), "报名活动要先加入志愿服务队"),
    "verify_hours": ("蓬莱站长", lambda act: _verify(act), "只有「科技服务队」的队长或管理员可以核时。"),
    "undo_no_show": ("刘农技", lambda act: _undo(act), "只有「科技服务队」的队长或管理员可以撤销缺席。"),
    "record_beneficiaries": ("刘农技", lambda act: _served(act), "只有本队队长或管理员可以记录受益人数。"),
    "project_create": ("陈刚", lambda act: create_project(act, name="德耀北票"), "只有中心、所、站的管理员可以新建项目。"),
    "moral_day_set": ("赵志愿", lambda act: set_moral_day(act, region="", change=Recurrence(hour=8, day_of_month=5)),
                      "只有文明实践中心、所、站的管理员可以设置道德活动日。"),
}


async def _create(act: Act) -> object:
    return await create_activity(act, team=await _kj(act), plan=_plan(act.now))


async def _broadcast(act: Act) -> object:
    return await broadcast(act, team=await _kj(act), content="大家好")


async def _sign_up(act: Act) -> object:
    return await sign_up(act, activity=await _activity(act))


async def _verify(act: Act) -> object:
    return await verify_hours(act, activity=await _activity(act), name="姜兆彤", hours=Decimal(2))


async def _undo(act: Act) -> object:
    return await undo_no_show(act, activity=await _activity(act), name="姜兆彤")


async def _served(act: Act) -> object:
    return await record_beneficiaries(act, activity=await _activity(act), count=30)


@pytest.mark.parametrize("action", sorted(ATTEMPTS))
async def test_a_refused_action_is_audited_with_its_reason_and_changes_nothing(chat, action: str) -> None:
    who, attempt, told = ATTEMPTS[action]
    await _publish(chat)
    await chat.send("姜兆彤", "报名 #1")
    async with chat.sessions() as s:
        before = await _rows(s)
        actor = await s.get(Person, chat.ids[who])
        outcome = await attempt(Act(session=s, now=chat.clock.now(), tz=TZ, actor=actor))
        await s.commit()
    assert isinstance(outcome, Refused) and told in outcome.reason
    async with chat.sessions() as s:
        assert await _rows(s) == before
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.outcome == "refused"))).scalars().all()
    assert [(a.action, a.actor_id, a.detail["reason"]) for a in refused] == [(action, chat.ids[who], outcome.reason)]


async def test_verifying_everyone_is_refused_once_for_someone_who_does_not_lead(chat) -> None:
    await _publish(chat)
    async with chat.sessions() as s:
        actor = await s.get(Person, chat.ids["刘农技"])
        act = Act(session=s, now=chat.clock.now(), tz=TZ, actor=actor)
        outcome = await verify_all_hours(act, activity=await _activity(act))
        await s.commit()
    assert isinstance(outcome, Refused)
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry.action).where(AuditEntry.outcome == "refused"))).scalars().all()
    assert refused == ["verify_hours"]


async def test_the_scheduler_leads_no_team(chat) -> None:
    """With no actor, an action that needs someone who leads refuses rather than acting for nobody."""
    async with chat.sessions() as s:
        act = Act(session=s, now=chat.clock.now(), tz=TZ)
        assert isinstance(await _create(act), Refused)
        assert isinstance(await set_moral_day(act, region="", change=Switch.off), Refused)


async def test_a_draft_confirmed_after_the_captain_stepped_down_is_refused_by_the_action(chat) -> None:
    await chat.send("陈刚", "活动 明天上午9点 村文化广场 包饺子 限2人")
    async with chat.sessions() as s:
        await s.execute(delete(RoleGrant).where(RoleGrant.person_id == chat.ids["陈刚"]))
        await s.commit()
    out = await chat.send("陈刚", "确认")
    assert chat.last_to("陈刚", out) == "只有本队队长或管理员可以发布活动。"
    assert not chat.to("姜兆彤", out)
    async with chat.sessions() as s:
        assert (await s.execute(select(Activity))).first() is None
        refusal = (await s.execute(select(AuditEntry).where(AuditEntry.outcome == "refused"))).scalar_one()
    assert refusal.action == "activity_create" and refusal.target_id == chat.ids["KJ"]
