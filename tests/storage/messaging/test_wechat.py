"""The WeChat channels' storage operations, on SQLite and PostgreSQL: windows, choices, reachability."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage.messaging.reach import set_reachable
from storage.messaging.wechat import (
    choice_for,
    close_window,
    group_chat_ids,
    is_group_chat,
    last_action,
    return_cs_slot,
    save_choices,
    take_cs_slot,
    touch_identity,
    window_of,
)
from storage.models import ChannelIdentity, OrgUnit, Person, Team, TeamGroup, TeamMember

WINDOW = timedelta(hours=48)


async def test_window_counts_per_action_and_closes(session, clock) -> None:
    now = clock.now()

    async def take(started, at=now, limit=2) -> bool:
        return await take_cs_slot(session, platform="wechat", user_id="o1", started=started, now=at,
                                  window=WINDOW, limit=limit)

    assert not await take(None)  # never acted: no window
    assert await take(now) and await take(now)
    assert not await take(now)  # the window's count is used up
    await return_cs_slot(session, platform="wechat", user_id="o1", started=now)
    assert await take(now)
    # The user acts again: a fresh window and count.
    again = now + timedelta(hours=1)
    assert await take(again, at=again) and await take(again, at=again)
    assert (await window_of(session, platform="wechat", user_id="o1")).window_start == again
    assert not await take(now)  # an older window never counts again
    assert not await take(again, at=again + WINDOW)  # 48 hours after the action: closed
    third = again + timedelta(hours=2)
    await close_window(session, platform="wechat", user_id="o1", started=third, limit=2)
    assert not await take(third, at=third)
    await session.commit()


async def test_concurrent_workers_never_exceed_the_window_limit(sessions, clock) -> None:
    async def worker() -> bool:
        async with sessions() as s:
            won = await take_cs_slot(s, platform="wechat", user_id="o2", started=clock.now(), now=clock.now(),
                                     window=WINDOW, limit=5)
            await s.commit()
            return won

    results = await asyncio.gather(*(worker() for _ in range(20)))
    assert sum(results) == 5
    async with sessions() as s:
        assert (await window_of(s, platform="wechat", user_id="o2")).cs_sent == 5


async def test_last_action_is_the_accounts_last_seen(session, clock) -> None:
    assert await last_action(session, platform="wechat", user_id="o3") == (None, True)
    person = Person(name="王", created_at=clock.now())
    session.add(person)
    await session.flush()
    session.add(ChannelIdentity(platform="wechat", external_id="o3", person_id=person.id))
    await session.flush()
    later = clock.now() + timedelta(minutes=5)
    await touch_identity(session, platform="wechat", user_id="o3", now=later)
    assert await last_action(session, platform="wechat", user_id="o3") == (later, True)
    await set_reachable(session, platform="wechat", external_id="o3", reachable=False)
    assert await last_action(session, platform="wechat", user_id="o3") == (later, False)
    await session.commit()


async def test_choices_newest_wins_and_expire(session, clock) -> None:
    now = clock.now()
    ttl = timedelta(hours=24)
    await save_choices(session, platform="wecom", chat_id="zhao", choices=["完成 #1", "放弃 #1"], now=now)
    await save_choices(session, platform="wecom", chat_id="group9", choices=["接单 #2"],
                       now=now + timedelta(minutes=1))
    assert await choice_for(session, platform="wecom", chat_ids=["zhao"], number=2, now=now, ttl=ttl) == "放弃 #1"
    assert await choice_for(session, platform="wecom", chat_ids=["zhao", "group9"], number=1,
                            now=now, ttl=ttl) == "接单 #2"
    assert await choice_for(session, platform="wecom", chat_ids=["zhao"], number=3, now=now, ttl=ttl) is None
    assert await choice_for(session, platform="wechat", chat_ids=["zhao"], number=1, now=now, ttl=ttl) is None
    assert await choice_for(session, platform="wecom", chat_ids=["zhao"], number=1,
                            now=now + ttl + timedelta(seconds=1), ttl=ttl) is None
    await save_choices(session, platform="wecom", chat_id="zhao", choices=["确认"], now=now + timedelta(minutes=2))
    assert await choice_for(session, platform="wecom", chat_ids=["zhao"], number=1, now=now, ttl=ttl) == "确认"
    await session.commit()


async def test_group_chats_reachability(session, clock) -> None:
    unit = OrgUnit(code="U", name="站", level="station", path="/")
    session.add(unit)
    await session.flush()
    team = Team(code="T", name="队", org_unit_id=unit.id, invite_code="T1")
    person = Person(name="赵", created_at=clock.now())
    session.add_all([team, person])
    await session.flush()
    session.add_all([TeamMember(team_id=team.id, person_id=person.id),
                     ChannelIdentity(platform="wecom", external_id="zhao", person_id=person.id),
                     TeamGroup(team_id=team.id, platform="wecom", chat_id="xfteam1", title="队"),
                     TeamGroup(team_id=team.id, platform="telegram", chat_id="-100", title="队")])
    await session.flush()
    assert await group_chat_ids(session, platform="wecom", user_id="zhao") == ["xfteam1"]
    assert await is_group_chat(session, platform="wecom", chat_id="xfteam1")
    assert not await is_group_chat(session, platform="wecom", chat_id="zhao")
    assert await set_reachable(session, platform="wecom", external_id="zhao", reachable=False) == 1
    assert await last_action(session, platform="wecom", user_id="zhao") == (None, False)
    await session.commit()
