"""`xinfeng wechat menu` and `xinfeng wecom group` against the fake WeChat API (here for its fixtures)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main

APP_ID = "wx5f1e2d3c4b5a6978"
CORP_ID = "ww0a1b2c3d4e5f6071"


@pytest.fixture
def wechat_env(monkeypatch: pytest.MonkeyPatch, fake_api, tmp_path: Path) -> Path:
    db = tmp_path / "cli.db"
    for key, value in {
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "WECHAT_TOKEN": "oa-callback-token", "WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": "oa-app-secret",
        "WECHAT_API_URL": fake_api.base_url + "/oa",
        "WECOM_CORP_ID": CORP_ID, "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "wecom-app-secret",
        "WECOM_TOKEN": "wecom-callback-token", "WECOM_AES_KEY": "a" * 43,
        "WECOM_API_URL": fake_api.base_url + "/wecom",
    }.items():
        monkeypatch.setenv(f"XINFENG_{key}", value)
    monkeypatch.delenv("XINFENG_REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return db


async def test_wechat_menu_installs_the_menu(wechat_env, fake_api, capsys) -> None:
    assert await asyncio.to_thread(main, ["wechat", "menu"]) == 0
    [menu] = fake_api.oa.menus
    assert [b["name"] for b in menu["button"]] == ["点单", "我的", "更多"]
    assert "已安装公众号菜单" in capsys.readouterr().out


async def test_wechat_menu_reports_a_refusal(wechat_env, fake_api, monkeypatch, capsys) -> None:
    monkeypatch.setenv("XINFENG_WECHAT_APP_SECRET", "wrong")
    assert await asyncio.to_thread(main, ["wechat", "menu"]) == 1
    assert "40125" in capsys.readouterr().err and fake_api.oa.menus == []


async def test_wecom_group_creates_and_binds_the_team_chat(wechat_env, fake_api, capsys) -> None:
    from sqlalchemy import select

    from bot.settings import Settings
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade
    from storage.models import (
        ChannelIdentity,
        OrgUnit,
        Person,
        Team,
        TeamGroup,
        TeamMember,
    )

    await asyncio.to_thread(upgrade, Settings().database_url)
    engine = create_engine(Settings().database_url)
    sessions = session_factory(engine)
    async with sessions() as s:
        unit = OrgUnit(code="PL", name="蓬莱社区新时代文明实践站", level="station", path="/1/")
        s.add(unit)
        await s.flush()
        team = Team(code="PLD", name="蓬莱社区志愿服务队", org_unit_id=unit.id, invite_code="PLD2026")
        s.add(team)
        await s.flush()
        for name, userid in (("赵志愿", "zhao"), ("钱志愿", "qian")):
            person = Person(name=name, is_volunteer=True)
            s.add(person)
            await s.flush()
            s.add_all([TeamMember(team_id=team.id, person_id=person.id),
                       ChannelIdentity(platform="wecom", external_id=userid, person_id=person.id)])
            fake_api.wecom.members.add(userid)
        await s.commit()
    assert await asyncio.to_thread(main, ["wecom", "group", "PLD"]) == 0
    assert "企业微信群已建好" in capsys.readouterr().out
    [(chat_id, chat)] = fake_api.wecom.chats.items()
    assert sorted(chat["userlist"]) == ["qian", "zhao"] and chat["name"] == "蓬莱社区志愿服务队"
    async with sessions() as s:
        group = (await s.execute(select(TeamGroup))).scalar_one()
        assert (group.platform, group.chat_id) == ("wecom", chat_id)
    await engine.dispose()
    assert await asyncio.to_thread(main, ["wecom", "group", "NOPE"]) == 1
