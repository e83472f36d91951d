"""The data map's actions called directly: the scope is checked inside them, a refusal is audited
with its reason and target and leaves no link and no file; a name matching nothing is only a hint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from handlers.core.act import Act, Refused, Unreadable
from handlers.datamap.actions import (
    Exported,
    LinkIssued,
    export_sheet,
    issue_dashboard_link,
)
from handlers.datamap.regions import RegionNotFound
from storage.models import AuditEntry, Person
from storage.models.dashboard import DashboardLink
from tests.conftest import TZ_NAME

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 28))


@asynccontextmanager
async def acting(chat, name: str) -> AsyncIterator[Act]:
    """An Act for `name` in a fresh transaction, committed at the end (as the engine would)."""
    async with chat.sessions() as s:
        act = Act(session=s, now=chat.clock.now(), tz=ZoneInfo(TZ_NAME), actor=await s.get(Person, chat.ids[name]))
        yield act
        await s.commit()


async def _audit(chat) -> list[AuditEntry]:
    async with chat.sessions() as s:
        return list((await s.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())


async def test_a_link_only_inside_the_scope_and_only_in_private(chat) -> None:
    async with acting(chat, "蓬莱站长") as act:
        outside = await issue_dashboard_link(act, region="台吉村", private=True)
        in_group = await issue_dashboard_link(act, region="", private=False)
        unknown = await issue_dashboard_link(act, region="火星村", private=True)
    async with acting(chat, "赵志愿") as act:
        not_admin = await issue_dashboard_link(act, region="", private=True)
    assert outside == Refused("「台吉村」不在您的管辖范围内，不能查看它的数据。")
    assert isinstance(in_group, Refused) and "只能私聊发送" in in_group.reason
    assert unknown == RegionNotFound("火星村", "蓬莱社区新时代文明实践站")
    assert not_admin == Refused("这项功能只对站长、所长和中心管理员开放。")
    rows = await _audit(chat)
    assert [(r.action, r.outcome, r.target_type, r.target_id) for r in rows] == [
        ("dashboard_link", "refused", "org_unit", chat.ids["TJC"]),
        ("dashboard_link", "refused", None, None),
        ("dashboard_link", "refused", None, None),
    ]
    assert [r.detail["reason"] for r in rows] == [outside.reason, in_group.reason, not_admin.reason]
    async with chat.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(DashboardLink))).scalar_one() == 0

    async with acting(chat, "城关所长") as act:
        issued = await issue_dashboard_link(act, region="蓬莱", private=True)
    assert isinstance(issued, LinkIssued) and issued.unit.code == "PL" and issued.minutes == 10
    async with chat.sessions() as s:
        link = (await s.execute(select(DashboardLink))).scalar_one()
    assert (link.person_id, link.org_unit_id) == (chat.ids["城关所长"], chat.ids["PL"])


async def test_an_export_checks_the_scope_and_records_who_took_it(chat) -> None:
    async with acting(chat, "蓬莱站长") as act:
        in_group = await export_sheet(act, kind="volunteers", region="", period=NOVEMBER, fmt="csv", private=False)
        outside = await export_sheet(act, kind="volunteers", region="台吉村", period=NOVEMBER, fmt="csv", private=True)
        backwards = await export_sheet(act, kind="volunteers", region="", period=(NOVEMBER[1], NOVEMBER[0]),
                                       fmt="csv", private=True)
    assert isinstance(in_group, Refused) and "只能私聊发送" in in_group.reason
    assert isinstance(outside, Refused) and isinstance(backwards, Unreadable)
    assert [(r.action, r.outcome, r.target_id) for r in await _audit(chat)] == [
        ("export", "refused", None), ("export", "refused", chat.ids["TJC"])]

    async with acting(chat, "蓬莱站长") as act:
        done = await export_sheet(act, kind="volunteers", region="", period=NOVEMBER, fmt="csv", private=True)
    assert isinstance(done, Exported) and done.rows == 2 and not done.cut and done.mime == "text/csv"
    assert done.data.decode("utf-8-sig").splitlines()[0].startswith("姓名")
    last = (await _audit(chat))[-1]
    assert (last.action, last.outcome, last.target_id, last.detail) == (
        "export", "ok", chat.ids["PL"],
        {"kind": "volunteers", "rows": 2, "date_from": "2026-11-01", "date_to": "2026-11-28"})
