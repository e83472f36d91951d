"""`xinfeng wecom customer-groups` and `xinfeng wecom bind-customer-group` against the fake WeCom (migrated database)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.cli import main
from tests.bot.channels.wechat.fake_customer_groups import install
from tests.bot.channels.wechat.test_wechat_cli import wechat_env  # noqa: F401  (the fixture)


async def test_list_then_bind_by_an_admin(wechat_env, fake_api, capsys) -> None:  # noqa: F811
    from bot.settings import Settings
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade
    from storage.models import CUSTOMER_PLATFORM, AuditEntry, OrgUnit, Team, TeamGroup

    customer = install(fake_api)
    customer.add_group("wrCJ", "曹家村志愿者群", "caojia", 57)
    customer.add_group("wrX", "广场舞群", "someone", 12)
    await asyncio.to_thread(upgrade, Settings().database_url)
    engine = create_engine(Settings().database_url)
    sessions = session_factory(engine)
    async with sessions() as s:
        unit = OrgUnit(code="CJ", name="曹家村新时代文明实践站", level="station", path="/1/")
        s.add(unit)
        await s.flush()
        s.add(Team(code="CJD", name="曹家村志愿服务队", org_unit_id=unit.id, invite_code="CJD2026"))
        await s.commit()
    assert await asyncio.to_thread(main, ["wecom", "customer-groups"]) == 0
    out = capsys.readouterr().out
    assert "曹家村志愿者群\t群主 caojia\t57 人\t（未绑定）" in out and "广场舞群" in out
    assert await asyncio.to_thread(main, ["wecom", "bind-customer-group", "CJD", "曹家村志愿者群"]) == 0
    assert "已绑定到「曹家村志愿服务队」" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["wecom", "bind-customer-group", "CJD", "没有这个群"]) == 1
    assert await asyncio.to_thread(main, ["wecom", "customer-groups"]) == 0
    assert "57 人\t曹家村志愿服务队" in capsys.readouterr().out
    async with sessions() as s:
        group = (await s.execute(select(TeamGroup))).scalar_one()
        audit = (await s.execute(select(AuditEntry).where(AuditEntry.action == "customer_group_bind"))).scalar_one()
    assert (group.platform, group.chat_id) == (CUSTOMER_PLATFORM, "wrCJ") and audit.actor_id is None
    await engine.dispose()
