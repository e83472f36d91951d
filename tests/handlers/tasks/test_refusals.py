"""The task actions check who acts themselves: a refusal is audited with its reason and changes nothing.

Called directly, past the commands, as any caller (a button, a job, another channel) would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from handlers.core.act import Act, Refused
from handlers.tasks import actions
from handlers.tasks.actions import Order
from handlers.tasks.routing import offer_to_team
from storage.models import AuditEntry, Person, RoleGrant, Task, metadata

TZ = ZoneInfo("Asia/Shanghai")


async def _rows(session) -> dict[str, int]:
    """How many rows each table holds, but the audit log."""
    return {t.name: (await session.execute(select(func.count()).select_from(t))).scalar_one()
            for t in metadata.sorted_tables if t.name != "audit_log"}


async def _accepted_task(chat) -> None:
    await chat.send("王大娘", "奶奶八十多了，想请人来帮忙理个发")
    await chat.send("王大娘", "确认")
    await chat.send("赵志愿", "接单 #1")


Attempt = Callable[[Act, Task], Awaitable[object]]

ATTEMPTS: dict[str, tuple[str, Attempt, str]] = {
    "accept": ("姜兆彤", lambda act, task: actions.accept(act, task), "只有这些队伍的队员可以接单"),
    "release": ("钱志愿", lambda act, task: actions.release(act, task), "您没有接任务 #1"),
    "complete": ("钱志愿", lambda act, task: actions.complete(act, task, Decimal(2)), "只有接了任务 #1 的志愿者"),
    "complete_asking_hours": ("钱志愿", lambda act, task: actions.complete(act, task, None), "只有接了任务 #1 的志愿者"),
    "rate": ("赵志愿", lambda act, task: actions.rate(act, task, 5, None), "只有点单的居民可以评价"),
    "cancel": ("李大爷", lambda act, task: actions.cancel(act, task), "只有点单的居民或管理员"),
    "dispatch": ("台吉站长", lambda act, task: offer_to_team(act, task, "城关综合服务分队"),
                 "只有蓬莱社区新时代文明实践站及其上级的管理员"),
    "dispatch_outside": ("蓬莱站长", lambda act, task: offer_to_team(act, task, "科技服务队"), "不在您管辖的"),
}


@pytest.mark.parametrize("attempt", sorted(ATTEMPTS))
async def test_a_refused_action_is_audited_with_its_reason_and_changes_nothing(chat, attempt: str) -> None:
    who, call, told = ATTEMPTS[attempt]
    await _accepted_task(chat)
    async with chat.sessions() as s:
        before = await _rows(s)
        refusals_before = (await s.execute(select(func.count(AuditEntry.id))
                                           .where(AuditEntry.outcome == "refused"))).scalar_one()
        act = Act(session=s, now=chat.clock.now(), tz=TZ, actor=await s.get(Person, chat.ids[who]))
        outcome = await call(act, await s.get(Task, 1))
        await s.commit()
    assert isinstance(outcome, Refused) and told in outcome.reason
    assert act.sent == []
    async with chat.sessions() as s:
        assert await _rows(s) == before
        task = await s.get(Task, 1)
        assert (task.status, task.accepted_count) == ("accepted", 1)
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.outcome == "refused")
                                   .order_by(AuditEntry.id))).scalars().all()
    assert len(refused) == refusals_before + 1
    last = refused[-1]
    action = attempt.split("_")[0]
    assert (last.action, last.actor_id, last.target_id, last.detail["reason"]) == \
        (action, chat.ids[who], 1, outcome.reason)


async def test_ordering_for_a_resident_is_checked_again_at_confirmation(chat) -> None:
    out = await chat.send("蓬莱站长", "代点单 王大娘 家里水管冻裂了，需要人帮忙修")
    assert "请确认为「王大娘」代点的需求" in chat.last_to("蓬莱站长", out)
    async with chat.sessions() as s:  # the grant is withdrawn while the draft waits
        await s.execute(delete(RoleGrant).where(RoleGrant.person_id == chat.ids["蓬莱站长"]))
        await s.commit()
    out = await chat.send("蓬莱站长", "确认")
    assert "只有蓬莱社区新时代文明实践站的管理员或驻村第一书记可以代这位居民点单" in chat.last_to("蓬莱站长", out)
    assert not chat.to("王大娘", out)
    async with chat.sessions() as s:
        assert (await s.execute(select(func.count(Task.id)))).scalar_one() == 0
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.outcome == "refused"))).scalar_one()
    assert (refused.action, refused.target_type, refused.target_id) == ("order", "person", chat.ids["王大娘"])


async def test_ordering_for_a_resident_outside_ones_scope_is_refused_before_drafting(chat) -> None:
    out = await chat.send("蓬莱站长", "代点单 李大爷 家里水管冻裂了")
    assert "只有台吉村新时代文明实践站的管理员或驻村第一书记" in chat.last_to("蓬莱站长", out)
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.outcome == "refused"))).scalar_one()
    assert (refused.action, refused.target_id) == ("order_for", chat.ids["李大爷"])


async def test_an_order_for_someone_unknown_creates_nothing(chat) -> None:
    async with chat.sessions() as s:
        before = await _rows(s)
        act = Act(session=s, now=chat.clock.now(), tz=TZ, actor=await s.get(Person, chat.ids["中心管理员"]))
        outcome = await actions.confirm_order(act, Order(resident_id=9999, category="其他", description="帮忙"))
        await s.commit()
    assert outcome == Refused("抱歉，找不到这位居民的村/社区，请重新点单。")
    async with chat.sessions() as s:
        assert await _rows(s) == before
