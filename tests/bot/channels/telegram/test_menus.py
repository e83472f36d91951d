"""Telegram's command menus: six commands for a villager, the group's in groups, each person's for their roles.

The menus are published at start (default, all private chats, all group chats) and each
person's own menu is brought in step with their roles by `MenuKeeper.reconcile` — called here
by the test, the keeper's own loop stopped, so every call to the fake is the test's doing.
"""

from __future__ import annotations

import re
from itertools import combinations

import pytest
from sqlalchemy import delete, select
from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeChat
from telegram.error import BadRequest

from bot.channels.telegram import menus
from bot.channels.telegram.menus import ADMIN, GROUP, RESIDENT, SECTIONS, Menus, menu_names
from handlers.app import build_dispatcher
from storage.models import ChatMenu, RoleGrant

ROLES = [role for role, _ in SECTIONS]


def test_a_villager_sees_six_commands_and_a_volunteer_none_of_the_leaders() -> None:
    assert menu_names([]) == list(RESIDENT) and len(RESIDENT) <= 6
    volunteer = menu_names(["volunteer"])
    assert {"accept", "done", "signup", "checkin", "points"} <= set(volunteer)
    assert not {"dispatch", "export", "pointsrule", "invite", "broadcast", "verify"} & set(volunteer)
    captain = menu_names(["captain"])
    assert {"invite", "broadcast", "verify", "accept"} <= set(captain) and "dispatch" not in captain
    admin = menu_names(["admin"])
    assert set(ADMIN) <= set(admin) and admin[:len(ADMIN)] == list(dict.fromkeys(ADMIN))
    assert "accept" not in admin  # admins dispatch; they take no tasks unless they are volunteers too


@pytest.mark.parametrize("held", [held for n in range(len(ROLES) + 1) for held in combinations(ROLES, n)])
def test_every_menu_is_registered_and_within_telegrams_limits(held: tuple[str, ...]) -> None:
    commands = Menus(build_dispatcher()).commands(menu_names(held))  # KeyError: a name no handler has
    assert 1 <= len(commands) <= 100
    assert len({c.command for c in commands}) == len(commands)
    for c in commands:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", c.command) and 1 <= len(c.description) <= 256, c


def test_the_group_menu_is_registered() -> None:
    assert [c.command for c in Menus(build_dispatcher()).commands(GROUP)] == list(GROUP)


async def test_the_bot_publishes_a_menu_per_chat_type(tg) -> None:
    fake = tg.fake
    assert fake.menu_shown(tg.user_id("王大娘")) == list(RESIDENT)
    assert fake.menu_shown(fake.add_group(-1001234, "科技服务队群")) == list(GROUP)
    assert [c["command"] for c in fake.commands] == list(RESIDENT)  # the default scope
    assert fake.menus[("all_private_chats", "")] and fake.menus[("all_group_chats", "")]


async def test_each_persons_menu_follows_their_roles(tg) -> None:
    fake, keeper, chat = tg.fake, tg.channel.menus, tg.chat
    await keeper.stop()
    await tg.link("陈刚", "刘农技", "王大娘", "中心管理员")
    assert await keeper.reconcile() == 3  # the captain, the volunteer and the admin; the villager keeps the default
    captain, volunteer = fake.menu_shown(tg.user_id("陈刚")), fake.menu_shown(tg.user_id("刘农技"))
    admin, villager = fake.menu_shown(tg.user_id("中心管理员")), tg.user_id("王大娘")
    assert {"invite", "verify", "broadcast", "accept"} <= set(captain) and "dispatch" not in captain
    assert "accept" in volunteer and not {"invite", "dispatch", "export"} & set(volunteer)
    assert {"dispatch", "export", "pointsrule", "dashboard", "invite"} <= set(admin)
    assert fake.menu_shown(villager) == list(RESIDENT) and ("chat", villager, "") not in fake.menus

    calls = fake.stats["setMyCommands"]
    assert await keeper.reconcile() == 0 and fake.stats["setMyCommands"] == calls  # nothing changed, nothing sent

    # Joining by the invite link makes the villager a volunteer: her own menu follows.
    await tg.say("王大娘", "/start join_KJ2026")
    assert await keeper.reconcile() == 1 and "accept" in fake.menu_shown(villager)
    # A grant made outside the chat (the CLI, an import) is seen all the same.
    async with chat.sessions() as s:
        s.add(RoleGrant(person_id=chat.ids["刘农技"], role="captain", team_id=chat.ids["KJ"]))
        await s.commit()
    assert await keeper.reconcile() == 1 and "invite" in fake.menu_shown(tg.user_id("刘农技"))
    # An admin who steps down gets the villagers' menu back: the chat's own is deleted, not overwritten.
    async with chat.sessions() as s:
        await s.execute(delete(RoleGrant).where(RoleGrant.person_id == chat.ids["中心管理员"]))
        await s.commit()
    assert await keeper.reconcile() == 1 and fake.stats["deleteMyCommands"] == 1
    assert fake.menu_shown(tg.user_id("中心管理员")) == list(RESIDENT)
    async with chat.sessions() as s:
        kept = {row.chat_id for row in (await s.execute(ChatMenu.__table__.select())).all()}
    assert kept == {str(tg.user_id(n)) for n in ("陈刚", "刘农技", "王大娘")}


async def test_a_menu_telegram_refuses_is_not_asked_again_every_round(tg) -> None:
    fake, keeper = tg.fake, tg.channel.menus
    await keeper.stop()
    await tg.link("陈刚")
    fake.fail_next("setMyCommands", code=400, description="Bad Request: chat not found")
    assert await keeper.reconcile() == 1  # logged and remembered
    assert await keeper.reconcile() == 0
    # Every try of one round fails (the sender retries a network failure `send_attempts` times).
    fake.fail_next("setMyCommands", code=500, description="Internal Server Error",
                   times=tg.channel.config.send_attempts)
    async with tg.chat.sessions() as s:
        await s.execute(delete(ChatMenu))
        await s.commit()
    assert await keeper.reconcile() == 0  # a temporary failure: the next round tries again
    assert await keeper.reconcile() == 1 and "invite" in fake.menu_shown(tg.user_id("陈刚"))


async def test_the_fake_holds_menus_to_telegrams_limits(tg) -> None:
    bot, fake = tg.channel.bot, tg.fake
    before = dict(fake.menus)
    too_many = [BotCommand(f"c{i}", "命令") for i in range(101)]
    with pytest.raises(BadRequest, match="(?i)bot_commands_too_much"):
        await bot.set_my_commands(too_many)
    for name in ("Dispatch", "x" * 33, "派单", ""):
        with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
            await bot.set_my_commands([BotCommand(name, "派单")])
    for description in ("", "帮" * 257):
        with pytest.raises(BadRequest, match="(?i)description_invalid"):
            await bot.set_my_commands([BotCommand("help", description)])
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.set_my_commands([BotCommand("help", "帮助")], scope=BotCommandScopeChat(424242))
    assert fake.menus == before
    # At the limits themselves Telegram says yes.
    exactly = [BotCommand(f"{'c' * 29}{i:03d}", "帮" * 256) for i in range(100)]
    assert await bot.set_my_commands(exactly, scope=BotCommandScopeAllGroupChats())
    assert len(fake.menu_shown(fake.add_group(-1009, "群"))) == 100


async def test_a_quiet_roster_costs_one_query_and_a_big_one_is_read_in_pages(tg, monkeypatch) -> None:
    fake, keeper, chat = tg.fake, tg.channel.menus, tg.chat
    await keeper.stop()
    pages: list[int] = []
    real = menus.menu_holders

    async def counted(session, platform, roles, *, after, limit):
        pages.append(after)
        return await real(session, platform, roles, after=after, limit=limit)

    monkeypatch.setattr(menus, "menu_holders", counted)
    keeper.page = 2  # the demo's accounts span several pages
    await tg.link("陈刚", "刘农技", "王大娘", "中心管理员")
    assert await keeper.reconcile() == 3 and len(pages) >= 2
    assert await keeper.reconcile() == 0  # its own menus recorded: read once more, nothing owed
    pages.clear()
    monkeypatch.setattr(menus, "FULL_EVERY", 4)  # a full round after four quiet ones
    for _ in range(3):
        assert await keeper.reconcile() == 0
    assert pages == []  # nothing moved: no account read, nothing sent

    # A grant's role edited in place leaves every count and sum as it was: the next full round finds it.
    async with chat.sessions() as s:
        grants = {g.person_id: g for g in (await s.execute(select(RoleGrant))).scalars()}
        captain, admin = grants[chat.ids["陈刚"]], grants[chat.ids["中心管理员"]]
        captain_scope = (captain.team_id, captain.org_unit_id)
        captain.role, captain.team_id, captain.org_unit_id = "admin", None, admin.org_unit_id
        admin.role, admin.team_id, admin.org_unit_id = "captain", *captain_scope
        await s.commit()
    assert await keeper.reconcile() == 0 and pages == []
    assert await keeper.reconcile() == 2 and pages  # the fifth round reads everything
    assert "dispatch" in fake.menu_shown(tg.user_id("陈刚"))
    assert "dispatch" not in fake.menu_shown(tg.user_id("中心管理员"))


async def test_a_round_sets_only_so_many_menus_and_the_next_goes_on(tg) -> None:
    fake, keeper = tg.fake, tg.channel.menus
    await keeper.stop()
    keeper.per_round = 2  # the first start over a big roster must not crowd out replies
    await tg.link("陈刚", "刘农技", "中心管理员")
    assert await keeper.reconcile() == 2 and fake.stats["setMyCommands"] - 3 == 2  # 3: the platform-wide menus
    assert await keeper.reconcile() == 1 and fake.stats["setMyCommands"] - 3 == 3
    assert await keeper.reconcile() == 0
    assert all(len(fake.menu_shown(tg.user_id(n))) > 6 for n in ("陈刚", "刘农技", "中心管理员"))
