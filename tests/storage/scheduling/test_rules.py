"""Recurring rules, their resolution over the tree, the set-based fan-out, and the fencing token."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from storage.messaging.outbox import preferred_identity
from storage.models import ChannelIdentity, OrgUnit, OutboxMessage, Person, TeamGroup
from storage.models.scheduling import ScheduleSend
from storage.scheduling.fanout import (
    claim_people,
    claim_region_groups,
    enqueue_claimed,
    fan_out_people,
    people_select,
    region_audience,
)
from storage.scheduling.firings import cover_units, open_firing
from storage.scheduling.leases import (
    Fence,
    FencedOut,
    begin_tenure,
    check_fence,
    hold_db_lease,
)
from storage.scheduling.recurrence import Recurrence, period_of
from storage.scheduling.rules import (
    MORAL_DAY,
    clear_rule,
    effective_rule,
    resolve_regions,
    set_rule,
)

TZ = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)


# ---------------------------------------------------------------- recurrence


def test_a_31st_rule_fires_on_the_last_day_of_short_months() -> None:
    rule = Recurrence(hour=8, day_of_month=31)
    assert rule.day_in_month(2027, 2) == date(2027, 2, 28)
    assert rule.day_in_month(2028, 2) == date(2028, 2, 29)
    assert rule.day_in_month(2026, 4) == date(2026, 4, 30)
    fires = rule.between(local(2027, 1, 1), local(2027, 5, 1), TZ)
    assert [f.date() for f in fires] == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]


def test_nth_and_last_weekday_rules() -> None:
    first_saturday = Recurrence(hour=9, week_of_month=1, weekday=5)
    assert first_saturday.day_in_month(2026, 12) == date(2026, 12, 5)
    assert first_saturday.day_in_month(2026, 8) == date(2026, 8, 1)
    assert Recurrence(hour=9, week_of_month=3, weekday=0).day_in_month(2026, 12) == date(2026, 12, 21)
    last_friday = Recurrence(hour=15, week_of_month=-1, weekday=4)
    assert last_friday.day_in_month(2026, 12) == date(2026, 12, 25)
    assert last_friday.day_in_month(2027, 1) == date(2027, 1, 29)
    assert first_saturday.describe() == "每月第一个周六 09:00"
    assert last_friday.describe() == "每月最后一个周五 15:00"


def test_latest_and_next_due_at_the_boundary() -> None:
    rule = Recurrence(hour=8, day_of_month=5)
    assert rule.latest_due(local(2026, 12, 5, 8, 0), TZ) == local(2026, 12, 5, 8, 0)
    assert rule.latest_due(local(2026, 12, 5, 7, 59), TZ) == local(2026, 11, 5, 8, 0)
    assert rule.next_due(local(2026, 12, 5, 8, 0), TZ) == local(2027, 1, 5, 8, 0)
    assert rule.latest_due(local(2027, 1, 2), TZ) == local(2026, 12, 5, 8, 0)  # across the year
    monday = Recurrence(hour=8, weekday=0)
    assert monday.latest_due(local(2026, 12, 7, 8, 0), TZ) == local(2026, 12, 7, 8, 0)
    assert monday.latest_due(local(2026, 12, 7, 7, 0), TZ) == local(2026, 11, 30, 8, 0)
    assert monday.next_due(local(2026, 12, 7, 8, 0), TZ) == local(2026, 12, 14, 8, 0)
    # UTC input, local answer: 00:30 UTC on the 5th is 08:30 in Beijing.
    assert period_of(rule.latest_due(datetime(2026, 12, 5, 0, 30, tzinfo=timezone.utc), TZ), TZ) == "2026-12-05"


def test_invalid_recurrences_are_refused() -> None:
    for bad in ({"hour": 24, "day_of_month": 1}, {"hour": 8, "day_of_month": 0},
                {"hour": 8, "week_of_month": 5, "weekday": 1}, {"hour": 8}):
        with pytest.raises(ValueError):
            Recurrence(**bad)


# ---------------------------------------------------------------- rules over the tree


async def test_a_rule_covers_its_subtree_until_a_lower_unit_overrides(chat, clock) -> None:
    ids = chat.ids
    async with chat.sessions() as s:
        await set_rule(session=s, unit_id=ids["LN"], job=MORAL_DAY, recurrence=Recurrence(hour=8, day_of_month=5),
                       now=clock.now())
        await set_rule(session=s, unit_id=ids["TJ"], job=MORAL_DAY,
                       recurrence=Recurrence(hour=9, week_of_month=1, weekday=5), now=clock.now())
        await set_rule(session=s, unit_id=ids["YS"], job=MORAL_DAY, recurrence=None, now=clock.now())
        await s.commit()
        regions = {r.unit.code: r for r in await resolve_regions(s, MORAL_DAY)}
        # The province rule is split per county center; 台吉镇 has its own; 杨树村 is switched off.
        assert set(regions) == {"LN", "BP", "TJ"}
        paths = {u.id: u.path for u in (await s.execute(select(OrgUnit))).scalars()}

        def under(code: str) -> set[int]:
            return {uid for uid, path in paths.items() if path.startswith(paths[ids[code]])}

        assert set(regions["BP"].unit_ids) == under("BP") - under("TJ") - under("YS")
        assert regions["BP"].owner.code == "LN"
        assert set(regions["TJ"].unit_ids) == under("TJ")
        assert regions["LN"].unit_ids == [ids["LN"]]
        pl = await s.get(OrgUnit, ids["PL"])
        rule, owner = await effective_rule(s, pl, MORAL_DAY)
        assert owner.code == "LN" and rule.day_of_month == 5
        assert await clear_rule(session=s, unit_id=ids["YS"], job=MORAL_DAY)
        assert not await clear_rule(session=s, unit_id=ids["YS"], job=MORAL_DAY)
        await s.commit()
        regions = {r.unit.code: r for r in await resolve_regions(s, MORAL_DAY)}
        assert set(regions["BP"].unit_ids) == under("BP") - under("TJ")


# ---------------------------------------------------------------- fan-out


async def _bind(chat, team: str, chat_id: str) -> None:
    async with chat.sessions() as s:
        s.add(TeamGroup(team_id=chat.ids[team], platform="test", chat_id=chat_id, title=f"{team}群"))
        await s.commit()


async def _fan_out(sessions, ids: dict[str, int], now: datetime, units: list[str]) -> int:
    async with sessions() as s:
        fid = await open_firing(s, job=MORAL_DAY, period="2026-12-05", scope=f"unit:{ids[units[0]]}",
                                due_at=now, now=now, text="道德活动日")
        if fid is None:
            return -1
        await cover_units(s, [(fid, ids[u]) for u in units])
        await claim_region_groups(s, job=MORAL_DAY, firing_ids=[fid], now=now)
        n = await enqueue_claimed(s, job=MORAL_DAY, firing_ids=[fid], kind=MORAL_DAY, now=now, targets=("group",))
        n += await fan_out_people(s, job=MORAL_DAY, firing_ids=[fid], audience=region_audience([fid]),
                                  kind=MORAL_DAY, now=now)
        await s.commit()
    return n


async def test_groups_first_then_opted_in_volunteers_nobody_twice(chat, clock) -> None:
    ids = chat.ids
    await _bind(chat, "KJ", "g-kj")
    await _bind(chat, "PLD", "g-pld")
    async with chat.sessions() as s:
        (await s.get(Person, ids["张文艺"])).dm_opt_in = False
        await s.commit()
    now = clock.now()
    n = await _fan_out(chat.sessions, ids, now, ["BP", "CG", "PL", "YS", "TJ", "TJC"])
    async with chat.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
    assert n == len(rows) == 3
    assert [r.address for r in rows[:2]] == ["g-kj", "g-pld"]  # the groups come first
    assert [r.recipient_label for r in rows[:2]] == ["KJ群", "PLD群"]
    # KJ and PLD members are reached through their groups; 张文艺 opted out; 赵志愿 (PLD and ZH)
    # is reached through PLD's group; only 周台吉 (台吉村队, no group) gets a direct message.
    assert [r.person_id for r in rows[2:]] == [ids["周台吉"]]
    assert all(r.kind == MORAL_DAY and r.ref == "moral_day:2026-12-05" and r.status == "pending" for r in rows)
    assert all(r.text == "道德活动日" and r.buttons == [] for r in rows)
    # The same firing again is refused by its key; a second scope with the same people sends nobody twice.
    assert await _fan_out(chat.sessions, ids, now, ["BP", "CG", "PL", "YS", "TJ", "TJC"]) == -1
    assert await _fan_out(chat.sessions, ids, now, ["TJ", "TJC", "PL"]) == 0


async def test_direct_messages_go_to_the_preferred_account_as_resolved_in_sql(chat, clock) -> None:
    ids = chat.ids
    now = clock.now()
    async with chat.sessions() as s:
        s.add_all([
            ChannelIdentity(platform="telegram", external_id="tg-zhou", person_id=ids["周台吉"],
                            last_seen_at=now - timedelta(days=3)),
            ChannelIdentity(platform="wechat", external_id="wx-zhou", person_id=ids["周台吉"],
                            last_seen_at=now - timedelta(days=1)),
            ChannelIdentity(platform="wecom", external_id="wc-zhou", person_id=ids["周台吉"],
                            last_seen_at=now, reachable=False),
            ChannelIdentity(platform="telegram", external_id="tg-qian", person_id=ids["钱志愿"], last_seen_at=None),
            ChannelIdentity(platform="wechat", external_id="wx-qian", person_id=ids["钱志愿"],
                            last_seen_at=now - timedelta(days=9)),
        ])
        await s.commit()
    assert await _fan_out(chat.sessions, ids, now, ["BP", "CG", "PL", "YS", "TJ", "TJC"]) > 0
    async with chat.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.person_id.is_not(None)))).scalars().all()
        assert {r.person_id for r in rows} == {ids[n] for n in
                                               ("姜兆彤", "刘农技", "孙科技", "张文艺", "赵志愿", "钱志愿", "周台吉", "陈刚")}
        for row in rows:
            ident = await preferred_identity(s, row.person_id)
            expected = (ident.platform, ident.external_id) if ident else (None, None)
            assert (row.platform, row.address) == expected
            assert row.recipient_label == (await s.get(Person, row.person_id)).name
        by_person = {r.person_id: (r.platform, r.address) for r in rows}
        assert by_person[ids["周台吉"]] == ("wechat", "wx-zhou")
        assert by_person[ids["钱志愿"]] == ("wechat", "wx-qian")


async def test_an_audience_of_people_and_the_sent_log_key(chat, clock) -> None:
    ids = chat.ids
    now = clock.now()
    async with chat.sessions() as s:
        fid = await open_firing(s, job="x", period="p1", scope="all", due_at=now, now=now, text="hi")
        who = select(Person.id).where(Person.name.in_(["王大娘", "李大爷"]))
        assert await claim_people(s, job="x", audience=people_select(who, fid), now=now,
                                  opted_in_only=False, skip_reached_by_group=False) == 2
        assert await claim_people(s, job="x", audience=people_select(who, fid), now=now,
                                  opted_in_only=False, skip_reached_by_group=False) == 0
        assert await enqueue_claimed(s, job="x", firing_ids=[fid], kind="x", now=now) == 2
        await s.commit()
        assert (await s.execute(select(func.count()).select_from(ScheduleSend))).scalar_one() == 2


# ---------------------------------------------------------------- lease and fence


async def test_db_lease_takeover_and_stale_fence(sessions, clock) -> None:
    now = clock.now()
    async with sessions() as s:
        a = await hold_db_lease(s, name="sched", holder="A", now=now, ttl=timedelta(seconds=45), current=None)
        await s.commit()
    async with sessions() as s:
        assert await hold_db_lease(s, name="sched", holder="B", now=now, ttl=timedelta(seconds=45), current=None) is None
        await s.commit()
    clock.advance(seconds=30)
    async with sessions() as s:  # A renews: same tenure, same token
        assert await hold_db_lease(s, name="sched", holder="A", now=clock.now(), ttl=timedelta(seconds=45),
                                   current=a) == a
        await s.commit()
    clock.advance(seconds=46)  # A died: B takes over with a larger token
    async with sessions() as s:
        b = await hold_db_lease(s, name="sched", holder="B", now=clock.now(), ttl=timedelta(seconds=45), current=None)
        await s.commit()
    assert b is not None and b.token == a.token + 1
    async with sessions() as s:
        await check_fence(s, b)
        with pytest.raises(FencedOut):
            await check_fence(s, a)
        await s.rollback()
    async with sessions() as s:  # A comes back: cannot renew, cannot take over
        assert await hold_db_lease(s, name="sched", holder="A", now=clock.now(), ttl=timedelta(seconds=45),
                                   current=a) is None
        await s.commit()


async def test_a_new_tenure_fences_out_the_old_one(sessions, clock) -> None:
    async with sessions() as s:
        first = await begin_tenure(s, name="sched", holder="A", now=clock.now())
        second = await begin_tenure(s, name="sched", holder="B", now=clock.now())
        await s.commit()
    assert second.token == first.token + 1
    async with sessions() as s:
        with pytest.raises(FencedOut):
            await check_fence(s, first)
        with pytest.raises(FencedOut):
            await check_fence(s, Fence("sched", "A", second.token))  # right token, wrong holder
        await check_fence(s, second)
