"""The data map's maintained aggregates equal a full recount, and the figures equal a naive count.

Random sequences of real events (tasks through their lifecycle, hours, volunteers moving,
units re-parented, activities, wishes, pairings) are played on SQLite and PostgreSQL; after
each burst the trigger-maintained closure, counters and last-active days must equal
`recount`, and at the end every unit's `figures` must equal `figures_naive`.
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select, update

from storage.activities.projects import create_project
from storage.datamap.figures import (
    children_figures,
    figures,
    figures_naive,
    lower_median,
    month_window,
)
from storage.datamap.recount import (
    drop_triggers_sync,
    fold_deltas,
    install_aggregates,
    maintained,
    recount,
)
from storage.models import OrgUnit, Person, Task, TaskAssignment, Team
from storage.models.activities import Activity, ActivitySignup
from storage.programmes.pairings import add_pairing, log_visit
from storage.programmes.wishes import (
    claim_wish,
    confirm_wish,
    fulfil_wish,
    publish_wish,
    submit_wish,
)
from storage.tasks.hours import credit_hours
from storage.tasks.transitions import (
    accept_task,
    cancel_task,
    close_task,
    complete_task,
    create_task,
    offer_task,
    release_task,
)

START = datetime(2026, 9, 30, 15, 50, tzinfo=timezone.utc)  # 23:50 on 30 Sep in Beijing


async def _units(s) -> list[OrgUnit]:
    return list((await s.execute(select(OrgUnit).order_by(OrgUnit.id))).scalars())


async def _pick(s, rng: random.Random, stmt):
    rows = list((await s.execute(stmt)).scalars())
    return rng.choice(rows) if rows else None


async def _step(s, rng: random.Random, clock, counter: list[int]) -> None:
    now = clock.now()
    units = await _units(s)
    stations = [u for u in units if u.level in ("station", "point")]
    action = rng.randrange(20)
    people = list((await s.execute(select(Person.id))).scalars())
    if action <= 3:
        station = rng.choice(stations)
        task = await create_task(session=s, resident_id=rng.choice(people), created_by_id=rng.choice(people),
                                 org_unit_id=station.id, category="生活帮扶", description="帮忙", now=now,
                                 volunteers_needed=rng.choice([1, 1, 2]))
        teams = list((await s.execute(select(Team.id))).scalars())
        if rng.random() < 0.8:
            await offer_task(session=s, task_id=task.id, team_ids=rng.sample(teams, 2), level="station", now=now,
                             window=timedelta(hours=2))
    elif action <= 6:
        task = await _pick(s, rng, select(Task).where(Task.status == "dispatched"))
        if task is not None:
            await accept_task(session=s, task_id=task.id, volunteer_id=rng.choice(people), team_id=None, now=now)
    elif action == 7:
        row = await _pick(s, rng, select(TaskAssignment).where(TaskAssignment.active.is_(True)))
        if row is not None:
            await release_task(session=s, task_id=row.task_id, volunteer_id=row.volunteer_id, now=now)
    elif action == 8:
        row = await _pick(s, rng, select(TaskAssignment).where(TaskAssignment.active.is_(True)))
        if row is not None:
            await complete_task(session=s, task_id=row.task_id, volunteer_id=row.volunteer_id,
                                hours=Decimal(rng.choice(["0.5", "1.25", "2", "3.33"])), now=now)
            await close_task(session=s, task_id=row.task_id, now=now, rating=5)
    elif action == 9:
        task = await _pick(s, rng, select(Task).where(Task.status.in_(["submitted", "dispatched", "accepted"])))
        if task is not None:
            await cancel_task(session=s, task_id=task.id, now=now, by_admin=True)
    elif action == 10:
        counter[0] += 1
        s.add(Person(name=f"志愿者{counter[0]}", phone=f"1370000{counter[0]:04d}", is_volunteer=rng.random() < 0.8,
                     org_unit_id=rng.choice(units).id, created_at=now))
    elif action == 11:
        person = await s.get(Person, rng.choice(people))
        if rng.random() < 0.5:
            person.org_unit_id = rng.choice(units).id if rng.random() < 0.9 else None
        else:
            person.is_volunteer = not person.is_volunteer
    elif action == 12:
        # As the importer does: insert detached, then link the parent (a move from nowhere).
        counter[0] += 1
        parent = rng.choice([u for u in units if u.level in ("center", "institute", "station")])
        level = {"center": "institute", "institute": "station", "station": "point"}[parent.level]
        unit = OrgUnit(code=f"N{counter[0]}", name=f"新单位{counter[0]}", level=level, path="")
        s.add(unit)
        await s.flush()
        unit.parent_id = parent.id
        unit.path = f"{parent.path}{unit.id}/"
    elif action == 13:
        station = rng.choice([u for u in units if u.level == "station"])
        institute = rng.choice([u for u in units if u.level == "institute"])
        if station.parent_id != institute.id:
            station.parent_id = institute.id
            old = station.path
            station.path = f"{institute.path}{station.id}/"
            for u in units:
                if u.path.startswith(old) and u.id != station.id:
                    u.path = station.path + u.path[len(old):]
    elif action == 14:
        counter[0] += 1
        team = await _pick(s, rng, select(Team))
        if rng.random() < 0.5:
            team.org_unit_id = rng.choice(units).id
        else:
            s.add(Team(code=f"T{counter[0]}", name=f"队{counter[0]}", org_unit_id=rng.choice(units).id,
                       categories="|其他|", invite_code=f"INV{counter[0]}"))
        counter[0] += 1
        await create_project(session=s, org_unit_id=rng.choice(units).id, name=f"项目{counter[0]}", now=now)
    elif action == 15:
        team = await _pick(s, rng, select(Team))
        start = now + timedelta(hours=rng.randrange(-48, 48))
        activity = Activity(team_id=team.id, org_unit_id=rng.choice(units).id, title="包饺子", starts_at=start,
                            ends_at=start + timedelta(hours=2), checkin_code="1234", status="planned", created_at=now)
        s.add(activity)
        await s.flush()
        signup = ActivitySignup(activity_id=activity.id, volunteer_id=rng.choice(people), status="signed",
                                signed_at=now)
        s.add(signup)
        await s.flush()
        await credit_hours(session=s, volunteer_id=signup.volunteer_id, hours=Decimal("1.5"),
                           source_type="activity_signup", source_id=signup.id, now=now)
    elif action == 16:
        activity = await _pick(s, rng, select(Activity))
        if activity is not None:
            await s.execute(update(Activity).where(Activity.id == activity.id).values(
                beneficiaries=rng.randrange(0, 40), status=rng.choice(["planned", "finished", "cancelled"])))
    elif action == 17:
        wish = await submit_wish(session=s, org_unit_id=rng.choice(stations).id, household="王大娘",
                                 description="收音机", submitted_by_id=rng.choice(people), now=now)
        steps = rng.randrange(5)
        if steps > 0:
            await publish_wish(session=s, wish_id=wish.id, by_id=people[0], now=now)
        if steps > 1:
            await claim_wish(session=s, wish_id=wish.id, volunteer_id=people[1], now=now)
        if steps > 2:
            await fulfil_wish(session=s, wish_id=wish.id, volunteer_id=people[1], proof=[{"kind": "text"}], now=now)
        if steps > 3:
            await confirm_wish(session=s, wish_id=wish.id, by_id=people[0], now=now)
    elif action == 18:
        pairing, _ = await add_pairing(session=s, volunteer_id=rng.choice(people), org_unit_id=rng.choice(stations).id,
                                       household_name=rng.choice(["王大娘", "李大爷"]), household_phone=None, now=now)
        await log_visit(session=s, pairing_id=pairing.id, note="送煤", problems_solved=1, now=now)
    else:
        counter[0] += 1
        # A source with no unit of its own: counted at the volunteer's home, and moves with them.
        await credit_hours(session=s, volunteer_id=rng.choice(people), hours=Decimal("0.75"), source_type="manual",
                           source_id=counter[0], now=now)
    clock.advance(minutes=rng.choice([0, 1, 7, 45, 130, 600, 1500, 4000]))


async def _assert_equal(sessions) -> None:
    async with sessions() as s:
        got, want = await maintained(s), await recount(s)
    assert got.closure == want.closure
    assert got.last_active == want.last_active
    diff = {k: (got.counters.get(k), want.counters.get(k)) for k in set(got.counters) | set(want.counters)
            if got.counters.get(k) != want.counters.get(k)}
    assert diff == {}


async def test_aggregates_equal_a_full_recount_after_random_events(chat, sessions, clock) -> None:
    clock.set(START)
    rng = random.Random(20261128)
    counter = [0]
    for burst in range(12):
        for _ in range(25):
            async with sessions() as s:
                await _step(s, rng, clock, counter)
                await s.commit()
        if burst % 4 == 3:
            async with sessions() as s:
                await fold_deltas(s)
                await s.commit()
        await _assert_equal(sessions)
    async with sessions() as s:
        for unit in await _units(s):
            fast = await figures(s, unit, clock.now())
            slow = await figures_naive(s, unit, clock.now())
            assert fast.to_dict() == slow.to_dict(), unit.code
        root = (await s.execute(select(OrgUnit).where(OrgUnit.parent_id.is_(None)))).scalars().first()
        top = await figures(s, root, clock.now())
        assert top.tasks > 20 and top.hours > 0 and top.volunteers > 5 and top.units
        assert top.active_volunteers > 0 and top.beneficiaries > 0 and top.pairing_visits > 0
        assert top.median_accept_minutes is not None


async def test_concurrent_events_are_all_counted_without_deadlock(chat, sessions, clock) -> None:
    """Many transactions at once, each touching the shared county counters in its own order."""
    station, resident = chat.ids["PL"], chat.ids["王大娘"]
    volunteers = [chat.ids[n] for n in ("赵志愿", "钱志愿", "周台吉", "姜兆彤")]

    async def one(i: int) -> None:
        async with sessions() as s:
            task = await create_task(session=s, resident_id=resident, created_by_id=resident, org_unit_id=station,
                                     category="生活帮扶", description=f"第{i}件", now=clock.now())
            await offer_task(session=s, task_id=task.id, team_ids=[chat.ids["PLD"]], level="station",
                             now=clock.now(), window=None)
            await accept_task(session=s, task_id=task.id, volunteer_id=volunteers[i % 4], team_id=None, now=clock.now())
            await complete_task(session=s, task_id=task.id, volunteer_id=volunteers[i % 4], hours=Decimal(1),
                                now=clock.now())
            await close_task(session=s, task_id=task.id, now=clock.now())
            await s.commit()

    await asyncio.gather(*(one(i) for i in range(16)))
    await _assert_equal(sessions)
    async with sessions() as s:
        county = await s.get(OrgUnit, chat.ids["BP"])
        fig = await figures(s, county, clock.now())
    assert fig.tasks_by_status == {"closed": 16} and fig.hours == 16 and fig.active_volunteers == 4


async def test_bulk_load_without_triggers_then_rebuild(chat, sessions, clock) -> None:
    async with sessions() as s:
        await s.run_sync(lambda ss: drop_triggers_sync(ss.connection()))
        for i in range(5):
            s.add(Person(name=f"批量{i}", phone=f"1360000{i:04d}", is_volunteer=True, org_unit_id=chat.ids["YS"],
                         created_at=clock.now()))
        await s.commit()
    async with sessions() as s:
        assert (await maintained(s)).counters != (await recount(s)).counters
        await install_aggregates(s)
        await s.commit()
    await _assert_equal(sessions)
    async with sessions() as s:
        fig = await figures(s, await s.get(OrgUnit, chat.ids["CG"]), clock.now())
    assert fig.volunteers == 2 + 5  # 赵志愿 and 钱志愿 live in 蓬莱 (under 城关), plus the five


async def test_children_side_by_side_and_month_window(chat, sessions, clock) -> None:
    async with sessions() as s:
        county = await s.get(OrgUnit, chat.ids["BP"])
        kids = await children_figures(s, county, clock.now())
    assert [k.code for k in kids] == ["CG", "TJ"]
    assert kids[0].units == {"station": 2, "point": 1} and kids[0].teams == 2
    assert month_window(clock.now(), 3) == ["2026-09", "2026-10", "2026-11"]
    assert lower_median({5: 1, 9: 2}) == 9 and lower_median({5: 2, 9: 2}) == 5 and lower_median({}) is None
