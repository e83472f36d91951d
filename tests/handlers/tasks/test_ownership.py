"""Ownership (issue 14 point 1): every open task reaches a named person within its window, whatever the roster.

On conftest's county, with admins and teams taken away to make each shape: a request no team
serves (a legal question) is followed from the order through every escalation. At each step a
named person — an admin, or a member of the team it is offered to — is told about task #1
within the window of the level it waited at, and the villager hears who has it. With nobody
at all, `tasks stuck` lists it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import delete, select

from handlers.tasks.stuck import stuck_report
from scheduler.runner import run_due
from storage.models import (
    OutboxMessage,
    RoleGrant,
    Task,
    TaskOffer,
    Team,
    TeamGroup,
    TeamMember,
)

LEGAL = "邻居占了我家宅基地，想找人咨询一下法律问题"


@dataclass(frozen=True)
class Shape:
    """A roster shape and who must hear about the task, step by step."""

    resident: str
    village: str | None  # registers there first (None: already on the roster)
    drop_admins: tuple[str, ...] = ()
    drop_teams: tuple[str, ...] = ()
    # (minutes after the previous step, who must be told about #1 by then); the first at once.
    steps: list[tuple[int, str]] = field(default_factory=list)
    first_words: str = ""  # what the villager is told first


SHAPES = {
    "station_with_admin": Shape(
        "王大娘", None, steps=[(0, "蓬莱站长"), (120, "城关所长"), (240, "中心管理员")],
        first_words="已交给蓬莱社区的站长蓬莱站长处理"),
    "station_without_admin_but_a_team": Shape(
        "王大娘", None, drop_admins=("蓬莱站长",), steps=[(0, "赵志愿"), (120, "城关所长"), (240, "中心管理员")],
        first_words="已派给「蓬莱社区志愿服务队」"),
    "station_with_neither": Shape(
        "杨树新", "杨树村", steps=[(0, "城关所长"), (240, "中心管理员")],
        first_words="已交给城关街道的所长城关所长处理"),
    "institute_without_admin": Shape(
        "李大爷", None, steps=[(0, "台吉站长"), (120, "中心管理员")],
        first_words="已交给台吉村的站长台吉站长处理"),
    "no_team_at_any_level_and_admins_only_at_the_center": Shape(
        "杨树新", "杨树村", drop_admins=("蓬莱站长", "城关所长"), drop_teams=("ZH", "PLD", "KJ", "WY", "TJD"),
        steps=[(0, "中心管理员")], first_words="已交给北票市的中心管理员中心管理员处理"),
}


async def _texts_to(chat, name: str) -> list[str]:
    async with chat.sessions() as s:
        return list((await s.execute(select(OutboxMessage.text).where(
            OutboxMessage.person_id == chat.ids[name]).order_by(OutboxMessage.id))).scalars())


async def _about_task(chat, name: str) -> int:
    return sum(1 for t in await _texts_to(chat, name) if "#1" in t)


async def _reshape(chat, shape: Shape) -> None:
    async with chat.sessions() as s:
        for name in shape.drop_admins:
            await s.execute(delete(RoleGrant).where(RoleGrant.person_id == chat.ids[name]))
        for code in shape.drop_teams:
            team_id = chat.ids[code]
            for model in (TeamMember, TeamGroup, TaskOffer):
                await s.execute(delete(model).where(model.team_id == team_id))
            await s.execute(delete(RoleGrant).where(RoleGrant.team_id == team_id))
            await s.execute(delete(Team).where(Team.id == team_id))
        await s.commit()


async def _order(chat, shape: Shape) -> str:
    if shape.village:
        await chat.send(shape.resident, f"注册 {shape.village}")
    await chat.send(shape.resident, LEGAL)
    out = await chat.send(shape.resident, "确认")
    return chat.last_to(shape.resident, out)


@pytest.mark.parametrize("name", sorted(SHAPES))
async def test_every_task_reaches_a_named_person_within_its_window(chat, name: str) -> None:
    shape = SHAPES[name]
    await _reshape(chat, shape)
    reply = await _order(chat, shape)
    assert "任务号是 #1" in reply and shape.first_words in reply
    heard_by_villager = await _about_task(chat, shape.resident)
    for minutes, who in shape.steps:
        before = await _about_task(chat, who) if minutes else 0  # the first is told with the order
        if minutes:
            chat.clock.advance(minutes=minutes - 1)
            await run_due(chat.sessions, chat.clock.now())
            assert await _about_task(chat, who) == before, f"{who} told before the window ran out"
            chat.clock.advance(minutes=1)
            await run_due(chat.sessions, chat.clock.now())
            # The villager hears it climbed, and to whom.
            assert await _about_task(chat, shape.resident) > heard_by_villager
            heard_by_villager = await _about_task(chat, shape.resident)
            assert "还没找到人，已报给" in (await _texts_to(chat, shape.resident))[-1]
        assert await _about_task(chat, who) > before, f"{name}: {who} was not told about #1 at step +{minutes} min"
    async with chat.sessions() as s:
        task = await s.get(Task, 1)
        assert task.escalate_at is not None and task.escalate_at > chat.clock.now()  # its window runs
        assert task.owner_id is not None or (await s.execute(
            select(TaskOffer.id).where(TaskOffer.task_id == 1))).first() is not None


async def test_at_the_top_the_center_is_reminded_daily_and_the_task_is_listed_stuck(chat) -> None:
    await _order(chat, SHAPES["station_with_admin"])
    for minutes in (120, 240):
        chat.clock.advance(minutes=minutes)
        await run_due(chat.sessions, chat.clock.now())
    async with chat.sessions() as s:
        assert await stuck_report(s, chat.clock.now()) == []  # waiting at the center, within its window
    chat.clock.advance(hours=24)
    await run_due(chat.sessions, chat.clock.now())
    assert "仍无人接单" in (await _texts_to(chat, "中心管理员"))[-1]
    async with chat.sessions() as s:
        stuck = await stuck_report(s, chat.clock.now())
    assert [(x.task_id, x.why) for x in stuck] == [(1, "已报到最高一级仍无人接单，请人工派单")]
    assert "中心管理员" in stuck[0].holder


async def test_with_nobody_at_all_the_task_is_listed_stuck_and_the_villager_told_honestly(chat) -> None:
    shape = Shape("杨树新", "杨树村", drop_admins=("蓬莱站长", "城关所长", "中心管理员", "台吉站长"),
                  drop_teams=("ZH", "PLD", "KJ", "WY", "TJD"))
    await _reshape(chat, shape)
    reply = await _order(chat, shape)
    assert "暂时还没有能接手的志愿服务队和管理员" in reply
    async with chat.sessions() as s:
        stuck = await stuck_report(s, chat.clock.now())
        task = await s.get(Task, 1)
    assert [x.task_id for x in stuck] == [1] and "沿途没有任何队伍和管理员" in stuck[0].why
    assert task.stuck_since is not None and task.escalate_at is not None  # its window still runs
    chat.clock.advance(hours=2)
    assert (await run_due(chat.sessions, chat.clock.now()))["escalate"] == 1  # re-armed, still listed
    async with chat.sessions() as s:
        assert [x.task_id for x in await stuck_report(s, chat.clock.now())] == [1]


async def test_other_goes_to_the_villages_own_people_not_the_county_catch_all(chat) -> None:
    async with chat.sessions() as s:  # a county team that serves 其他, like the demo's 总队
        s.add(Team(code="ZD", name="志愿服务总队", org_unit_id=chat.ids["BP"], categories="|其他|",
                   invite_code="ZD2026"))
        await s.commit()
    await chat.send("王大娘", "你好 有个事想问问")
    out = await chat.send("王大娘", "确认")
    async with chat.sessions() as s:
        task = await s.get(Task, 1)
    assert task.category == "其他"
    assert "已交给蓬莱社区的站长蓬莱站长处理" in chat.last_to("王大娘", out)
    assert (task.status, task.owner_id) == ("submitted", chat.ids["蓬莱站长"])


async def test_a_task_left_without_a_window_before_this_change_is_found_by_the_next_tick(chat) -> None:
    await _order(chat, SHAPES["station_with_admin"])
    async with chat.sessions() as s:  # as the tasks that vanished looked: submitted, no window, no owner
        task = await s.get(Task, 1)
        task.escalate_at, task.owner_id, task.owner_unit_id = None, None, None
        await s.commit()
        assert [x.why for x in await stuck_report(s, chat.clock.now())] == ["没有等待时限，不会自动升级（请人工派单）"]
    async with chat.sessions() as s:  # what migration 0006 does to them
        task = await s.get(Task, 1)
        task.escalate_at = task.created_at
        await s.commit()
    assert (await run_due(chat.sessions, chat.clock.now()))["escalate"] == 1
    assert "已升级到城关街道" in (await _texts_to(chat, "城关所长"))[-1]

