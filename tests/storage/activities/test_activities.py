"""Activity operations are atomic and ordered, on SQLite and PostgreSQL: sign-up, waitlist, attendance, hours."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, select

from storage.activities.activities import (
    CancelResult,
    SignupResult,
    cancel_signup,
    create_activity,
    place_counts,
    planned_activities,
    sign_up,
    waitlist_position,
)
from storage.activities.attendance import (
    CheckResult,
    check_in,
    check_out,
    distance_m,
    mark_no_shows,
    parse_location,
    undo_no_show,
    verify_hours,
)
from storage.activities.projects import (
    create_project,
    find_project_for_unit,
    project_figures,
)
from storage.models import HoursEntry, OrgUnit, Person, Team
from storage.models.activities import Activity, ActivitySignup

SQUARE = (41.8000, 120.7700)


async def _setup(sessions, clock, *, volunteers: int, capacity: int | None,
                 starts_in: timedelta = timedelta(days=1), length: timedelta = timedelta(hours=2),
                 location: tuple[float, float] | None = None) -> tuple[int, list[int]]:
    async with sessions() as s:
        county = OrgUnit(code="C", name="县中心", level="center", path="")
        s.add(county)
        await s.flush()
        county.path = f"/{county.id}/"
        village = OrgUnit(code="V", name="村站", level="station", parent_id=county.id, path="")
        s.add(village)
        await s.flush()
        village.path = f"{county.path}{village.id}/"
        team = Team(code="T", name="队", org_unit_id=village.id, categories="|其他|", invite_code="T1")
        people = [Person(name=f"v{i}", is_volunteer=True, created_at=clock.now()) for i in range(volunteers)]
        s.add_all([team, *people])
        await s.flush()
        start = clock.now() + starts_in
        activity = await create_activity(session=s, team_id=team.id, org_unit_id=village.id, title="包饺子",
                                         starts_at=start, ends_at=start + length, now=clock.now(),
                                         created_by_id=None, capacity=capacity, location=location)
        await s.commit()
        return activity.id, [p.id for p in people]


async def _sign(sessions, clock, activity_id: int, vid: int):
    async with sessions() as s:
        outcome = await sign_up(session=s, activity_id=activity_id, volunteer_id=vid, now=clock.now())
        await s.commit()
        return outcome


async def _cancel(sessions, clock, activity_id: int, vid: int):
    async with sessions() as s:
        outcome = await cancel_signup(session=s, activity_id=activity_id, volunteer_id=vid, now=clock.now())
        await s.commit()
        return outcome


async def _rows(sessions, activity_id: int) -> list[ActivitySignup]:
    async with sessions() as s:
        return list((await s.execute(
            select(ActivitySignup).where(ActivitySignup.activity_id == activity_id).order_by(ActivitySignup.seq)
        )).scalars())


async def test_hundred_simultaneous_signups_for_twenty_places(sessions, clock) -> None:
    activity_id, people = await _setup(sessions, clock, volunteers=100, capacity=20)

    outcomes = await asyncio.gather(*(_sign(sessions, clock, activity_id, v) for v in people))

    counts = Counter(o.result for o in outcomes)
    assert counts == {SignupResult.signed: 20, SignupResult.waitlisted: 80}
    # Each waitlisted caller was told a distinct place, 1..80.
    assert sorted(o.position for o in outcomes if o.result is SignupResult.waitlisted) == list(range(1, 81))
    rows = await _rows(sessions, activity_id)
    assert len({r.seq for r in rows}) == 100  # one arrival order, no ties
    signed = [r for r in rows if r.status == "signed"]
    waiting = [r for r in rows if r.status == "waitlisted"]
    assert len(signed) == 20 and len(waiting) == 80
    # Places went to the first 20 arrivals; the waitlist is everyone after them, in arrival order.
    assert max(r.seq for r in signed) < min(r.seq for r in waiting)
    by_volunteer = {people[i]: o for i, o in enumerate(outcomes)}
    told = [by_volunteer[r.volunteer_id].position for r in waiting]
    assert told == list(range(1, 81))


async def test_a_cancellation_promotes_the_first_waitlisted(sessions, clock) -> None:
    activity_id, people = await _setup(sessions, clock, volunteers=100, capacity=20)
    await asyncio.gather(*(_sign(sessions, clock, activity_id, v) for v in people))
    rows = await _rows(sessions, activity_id)
    first_signed = next(r.volunteer_id for r in rows if r.status == "signed")
    queue = [r.volunteer_id for r in rows if r.status == "waitlisted"]

    outcome = await _cancel(sessions, clock, activity_id, first_signed)

    assert outcome.result is CancelResult.cancelled and outcome.promoted_volunteer_id == queue[0]
    async with sessions() as s:
        assert await place_counts(session=s, activity_id=activity_id) == (20, 79)
        assert await waitlist_position(session=s, activity_id=activity_id, volunteer_id=queue[1]) == 1
        assert await waitlist_position(session=s, activity_id=activity_id, volunteer_id=queue[0]) is None


async def test_simultaneous_cancellations_and_signups_keep_capacity_and_order(sessions, clock) -> None:
    activity_id, people = await _setup(sessions, clock, volunteers=50, capacity=20)
    for v in people[:40]:  # in order: 20 signed, 20 waitlisted
        await _sign(sessions, clock, activity_id, v)
    leaving, newcomers = people[:10], people[40:]

    results = await asyncio.gather(
        *(_cancel(sessions, clock, activity_id, v) for v in leaving),
        *(_sign(sessions, clock, activity_id, v) for v in newcomers),
    )

    cancels = results[:10]
    assert all(c.result is CancelResult.cancelled for c in cancels)
    # The ten promoted are exactly the first ten of the waitlist, whoever cancelled first.
    assert sorted(c.promoted_volunteer_id for c in cancels) == people[20:30]
    rows = await _rows(sessions, activity_id)
    signed = sorted(r.volunteer_id for r in rows if r.status == "signed")
    assert signed == sorted(people[10:30])
    waiting = [r.volunteer_id for r in rows if r.status == "waitlisted"]
    assert waiting[:10] == people[30:40] and sorted(waiting[10:]) == sorted(newcomers)


async def test_waitlist_is_in_arrival_order(sessions, clock) -> None:
    activity_id, people = await _setup(sessions, clock, volunteers=6, capacity=2)
    outcomes = [await _sign(sessions, clock, activity_id, v) for v in people]
    assert [o.result.value for o in outcomes] == ["signed"] * 2 + ["waitlisted"] * 4
    assert [o.position for o in outcomes[2:]] == [1, 2, 3, 4]
    # Leaving the waitlist moves everyone behind up; a cancelled place goes to the new first.
    assert (await _cancel(sessions, clock, activity_id, people[3])).result is CancelResult.left_waitlist
    assert (await _cancel(sessions, clock, activity_id, people[0])).promoted_volunteer_id == people[2]
    assert (await _cancel(sessions, clock, activity_id, people[1])).promoted_volunteer_id == people[4]
    # Signing up again after cancelling goes to the back of the queue.
    again = await _sign(sessions, clock, activity_id, people[0])
    assert again.result is SignupResult.waitlisted and again.position == 2
    assert (await _cancel(sessions, clock, activity_id, people[0])).result is CancelResult.left_waitlist
    assert (await _cancel(sessions, clock, activity_id, people[0])).result is CancelResult.not_signed


async def test_no_one_signs_up_twice_even_pressing_at_once(sessions, clock) -> None:
    activity_id, people = await _setup(sessions, clock, volunteers=1, capacity=5)
    outcomes = await asyncio.gather(*(_sign(sessions, clock, activity_id, people[0]) for _ in range(10)))
    assert Counter(o.result for o in outcomes) == {SignupResult.signed: 1, SignupResult.already: 9}
    async with sessions() as s:
        assert (await s.execute(select(func.count(ActivitySignup.id)))).scalar_one() == 1


async def test_unlimited_capacity_and_closed_after_start(sessions, clock) -> None:
    activity_id, people = await _setup(sessions, clock, volunteers=5, capacity=None, starts_in=timedelta(hours=1))
    assert {(await _sign(sessions, clock, activity_id, v)).result for v in people[:4]} == {SignupResult.signed}
    clock.advance(hours=1)
    assert (await _sign(sessions, clock, activity_id, people[4])).result is SignupResult.closed
    assert (await _cancel(sessions, clock, activity_id, people[0])).result is CancelResult.closed


async def test_check_in_and_out_with_code_and_capped_hours(sessions, clock) -> None:
    activity_id, people = await _setup(sessions, clock, volunteers=3, capacity=1, starts_in=timedelta(hours=3))
    a, b, _ = people
    await _sign(sessions, clock, activity_id, a)
    await _sign(sessions, clock, activity_id, b)
    async with sessions() as s:
        code = (await s.get(Activity, activity_id)).checkin_code
        assert (await check_in(session=s, activity_id=activity_id, volunteer_id=a, now=clock.now(), code=code)).result is CheckResult.too_early
        clock.advance(hours=2, minutes=30)  # half an hour before the start
        assert (await check_in(session=s, activity_id=activity_id, volunteer_id=a, now=clock.now(), code="0000" if code != "0000" else "1111")).result is CheckResult.wrong_code
        assert (await check_in(session=s, activity_id=activity_id, volunteer_id=a, now=clock.now())).result is CheckResult.need_code
        assert (await check_in(session=s, activity_id=activity_id, volunteer_id=b, now=clock.now(), code=code)).result is CheckResult.waitlisted
        assert (await check_out(session=s, activity_id=activity_id, volunteer_id=a, now=clock.now())).result is CheckResult.not_checked_in
        assert (await check_in(session=s, activity_id=activity_id, volunteer_id=a, now=clock.now(), code=f" {code} ")).result is CheckResult.ok
        assert (await check_in(session=s, activity_id=activity_id, volunteer_id=a, now=clock.now(), code=code)).result is CheckResult.already
        clock.advance(hours=3)  # stayed 3 h for a 2-hour activity
        out = await check_out(session=s, activity_id=activity_id, volunteer_id=a, now=clock.now())
        assert out.result is CheckResult.ok and out.hours == Decimal("2.00")
        again = await check_out(session=s, activity_id=activity_id, volunteer_id=a, now=clock.now())
        assert again.result is CheckResult.already and again.hours == Decimal("2.00")
        await s.commit()


async def test_check_in_by_location_within_the_radius(sessions, clock) -> None:
    activity_id, people = await _setup(sessions, clock, volunteers=2, capacity=None,
                                       starts_in=timedelta(minutes=10), location=SQUARE)
    a, b = people
    await _sign(sessions, clock, activity_id, a)
    await _sign(sessions, clock, activity_id, b)
    near = (SQUARE[0] + 0.001, SQUARE[1])  # ~111 m north
    far = (SQUARE[0] + 0.01, SQUARE[1])  # ~1.1 km north
    assert 100 < distance_m(SQUARE, near) < 120
    async with sessions() as s:
        too_far = await check_in(session=s, activity_id=activity_id, volunteer_id=a, now=clock.now(), location=far)
        assert too_far.result is CheckResult.too_far and 1000 < too_far.distance_m < 1200
        ok = await check_in(session=s, activity_id=activity_id, volunteer_id=a, now=clock.now(), location=near)
        assert ok.result is CheckResult.ok
        act = await s.get(Activity, activity_id)
        act.checkin_radius_m = 50
        await s.flush()
        tight = await check_in(session=s, activity_id=activity_id, volunteer_id=b, now=clock.now(), location=near)
        assert tight.result is CheckResult.too_far
        await s.commit()
    assert parse_location("41.8,120.77") == (41.8, 120.77)
    assert parse_location("41.8，120.77") == (41.8, 120.77)
    assert parse_location("91,0") is None and parse_location("here") is None


async def test_location_check_in_needs_coordinates(sessions, clock) -> None:
    activity_id, people = await _setup(sessions, clock, volunteers=1, capacity=None, starts_in=timedelta(minutes=10))
    await _sign(sessions, clock, activity_id, people[0])
    async with sessions() as s:
        result = await check_in(session=s, activity_id=activity_id, volunteer_id=people[0], now=clock.now(), location=SQUARE)
        assert result.result is CheckResult.no_location


async def test_verified_hours_are_credited_once_even_when_verified_at_once(sessions, clock) -> None:
    activity_id, people = await _setup(sessions, clock, volunteers=1, capacity=None, starts_in=timedelta(minutes=10))
    await _sign(sessions, clock, activity_id, people[0])
    async with sessions() as s:
        signup_id = (await s.execute(select(ActivitySignup.id))).scalar_one()

    async def verify() -> bool:
        async with sessions() as s:
            ok = await verify_hours(session=s, signup_id=signup_id, hours=Decimal("1.5"), by_id=None, now=clock.now())
            await s.commit()
            return ok

    assert sum(await asyncio.gather(*(verify() for _ in range(10)))) == 1
    async with sessions() as s:
        entries = (await s.execute(select(HoursEntry))).scalars().all()
        assert [(e.volunteer_id, e.hours, e.source_type, e.source_id) for e in entries] == [
            (people[0], Decimal("1.50"), "activity_signup", signup_id)]
        assert not await verify_hours(session=s, signup_id=signup_id, hours=Decimal(0), by_id=None, now=clock.now())


async def test_no_shows_are_marked_once_and_an_undo_sticks(sessions, clock) -> None:
    activity_id, people = await _setup(sessions, clock, volunteers=3, capacity=None, starts_in=timedelta(minutes=10))
    came, absent, excused = people
    for v in people:
        await _sign(sessions, clock, activity_id, v)
    async with sessions() as s:
        code = (await s.get(Activity, activity_id)).checkin_code
        await check_in(session=s, activity_id=activity_id, volunteer_id=came, now=clock.now(), code=code)
        clock.advance(minutes=39)  # start + 29 min: not yet
        assert await mark_no_shows(session=s, now=clock.now()) == []
        clock.advance(minutes=1)
        assert sorted(await mark_no_shows(session=s, now=clock.now())) == sorted([(activity_id, absent), (activity_id, excused)])
        assert await mark_no_shows(session=s, now=clock.now()) == []
        assert await undo_no_show(session=s, activity_id=activity_id, volunteer_id=excused)
        assert not await undo_no_show(session=s, activity_id=activity_id, volunteer_id=excused)
        clock.advance(minutes=5)
        assert await mark_no_shows(session=s, now=clock.now()) == []
        # A no-show's hours cannot be verified until the captain undoes it.
        absent_id = (await s.execute(select(ActivitySignup.id).where(ActivitySignup.volunteer_id == absent))).scalar_one()
        assert not await verify_hours(session=s, signup_id=absent_id, hours=Decimal(1), by_id=None, now=clock.now())
        # A late arrival who checks in is no longer a no-show.
        assert (await check_in(session=s, activity_id=activity_id, volunteer_id=absent, now=clock.now(), code=code)).result is CheckResult.ok
        await s.commit()
    rows = {r.volunteer_id: r for r in await _rows(sessions, activity_id)}
    assert not rows[came].no_show and not rows[absent].no_show and not rows[excused].no_show
    assert rows[excused].no_show_undone


async def test_planned_activities_for_a_region_and_day(sessions, clock) -> None:
    activity_id, _ = await _setup(sessions, clock, volunteers=0, capacity=None, starts_in=timedelta(hours=2))
    async with sessions() as s:
        activity = await s.get(Activity, activity_id)
        village = await s.get(OrgUnit, activity.org_unit_id)
        county = await s.get(OrgUnit, village.parent_id)
        other = OrgUnit(code="X", name="别的县", level="center", path="/999/")
        s.add(other)
        await s.flush()
        day = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)  # 11-28 00:00 in Beijing
        assert [a.id for a in await planned_activities(s, county, day, day + timedelta(days=1))] == [activity_id]
        assert [a.id for a in await planned_activities(s, village, day, day + timedelta(days=1))] == [activity_id]
        assert await planned_activities(s, other, day, day + timedelta(days=1)) == []
        assert await planned_activities(s, county, day + timedelta(days=1), day + timedelta(days=2)) == []
        activity.status = "cancelled"
        await s.flush()
        assert await planned_activities(s, county, day, day + timedelta(days=1)) == []


async def test_projects_are_unique_per_unit_and_counted(sessions, clock) -> None:
    activity_id, _ = await _setup(sessions, clock, volunteers=0, capacity=None)
    async with sessions() as s:
        activity = await s.get(Activity, activity_id)
        village = await s.get(OrgUnit, activity.org_unit_id)
        county = await s.get(OrgUnit, village.parent_id)
        project = await create_project(session=s, org_unit_id=county.id, name="周末文化广场", now=clock.now())
        assert project is not None
        assert await create_project(session=s, org_unit_id=county.id, name="周末文化广场", now=clock.now()) is None
        assert (await find_project_for_unit(session=s, unit=village, name="文化广场")).id == project.id
        activity.project_id = project.id
        activity.beneficiaries = 30
        await s.commit()
        figures = await project_figures(session=s, scopes=[county])
        assert [(f.project.name, f.activities, f.beneficiaries) for f in figures] == [("周末文化广场", 1, 30)]
        assert await project_figures(session=s, scopes=[village]) == []
