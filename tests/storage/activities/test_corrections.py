"""Correcting verified hours: the ledger gets the difference, points follow, a balance never goes below zero.

Points already spent cannot be taken back; what could not be is owed by that service and
settled by its next correction, never chased from the volunteer's other points.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from storage.activities.activities import create_activity, sign_up
from storage.activities.attendance import verify_hours
from storage.activities.corrections import Corrected, correct_hours
from storage.models import HoursEntry, OrgUnit, Person, Team
from storage.models.activities import ActivitySignup, HoursCorrection
from storage.programmes.points import balance, redeem, stock_goods
from storage.programmes.points_history import history
from storage.tasks.hours import credit_hours, total_hours


async def _verified(sessions, clock, hours: str = "2") -> tuple[int, int, int]:
    """A three-hour activity yesterday whose one volunteer was verified for `hours`: (signup, volunteer, unit)."""
    async with sessions() as s:
        village = OrgUnit(code="V", name="村站", level="station", path="")
        s.add(village)
        await s.flush()
        village.path = f"/{village.id}/"
        team = Team(code="T", name="队", org_unit_id=village.id, categories="|其他|", invite_code="T1")
        person = Person(name="小李", is_volunteer=True, org_unit_id=village.id, created_at=clock.now())
        s.add_all([team, person])
        await s.flush()
        start = clock.now() + timedelta(hours=1)
        activity = await create_activity(session=s, team_id=team.id, org_unit_id=village.id, title="包饺子",
                                         starts_at=start, ends_at=start + timedelta(hours=3), now=clock.now(),
                                         created_by_id=None)
        await sign_up(session=s, activity_id=activity.id, volunteer_id=person.id, now=clock.now())
        signup_id = (await s.execute(select(ActivitySignup.id))).scalar_one()
        assert await verify_hours(session=s, signup_id=signup_id, hours=Decimal(hours), by_id=None,
                                  now=clock.now() + timedelta(hours=5))
        await s.commit()
        return signup_id, person.id, village.id


async def _correct(sessions, clock, signup_id: int, before: str, to: str) -> Corrected | None:
    async with sessions() as s:
        done = await correct_hours(session=s, signup_id=signup_id, before=Decimal(before), hours=Decimal(to),
                                   by_id=None, now=clock.now())
        await s.commit()
        return done


async def test_a_correction_up_and_down_is_a_ledger_row_and_points_follow(sessions, clock) -> None:
    signup_id, volunteer, _ = await _verified(sessions, clock, "2")
    up = await _correct(sessions, clock, signup_id, "2", "3")
    assert up == Corrected(Decimal(2), Decimal(3), Decimal(1), Decimal(1), Decimal(0), Decimal(3))
    down = await _correct(sessions, clock, signup_id, "3", "1.5")
    assert down == Corrected(Decimal(3), Decimal("1.5"), Decimal("-1.5"), Decimal("-1.5"), Decimal(0),
                             Decimal("1.5"))
    async with sessions() as s:
        rows = (await s.execute(select(HoursEntry.source_type, HoursEntry.hours).order_by(HoursEntry.id))).all()
        # The credited row is untouched; each correction is a row for its difference.
        assert [tuple(r) for r in rows] == [("activity_signup", Decimal(2)), ("hours_correction", Decimal(1)),
                                            ("hours_correction", Decimal("-1.5"))]
        assert await total_hours(session=s, volunteer_id=volunteer) == (Decimal("1.5"), 1)
        assert (await s.get(ActivitySignup, signup_id)).hours == Decimal("1.5")
        corrections = (await s.execute(select(HoursCorrection.from_hours, HoursCorrection.to_hours)
                                       .order_by(HoursCorrection.id))).all()
        assert [tuple(c) for c in corrections] == [(Decimal(2), Decimal(3)), (Decimal(3), Decimal("1.5"))]
        assert await balance(session=s, person_id=volunteer) == Decimal("1.5")
        lines = await history(session=s, person_id=volunteer)
        assert [(h.what, h.ref_id, h.delta) for h in lines] == [
            ("activity_correction", 1, Decimal("-1.5")), ("activity_correction", 1, Decimal(1)),
            ("activity", 1, Decimal(2))]


async def test_points_already_spent_stay_owed_by_that_service_and_are_settled_by_its_next_correction(
        sessions, clock) -> None:
    signup_id, volunteer, unit = await _verified(sessions, clock, "3")
    async with sessions() as s:
        goods = await stock_goods(session=s, org_unit_id=unit, name="毛巾", price=3, added=1, now=clock.now())
        await redeem(session=s, person_id=volunteer, goods_id=goods.id, quantity=1, shopkeeper_id=None,
                     now=clock.now())
        await s.commit()
    # 3 h → 1 h: two points to take back, all spent — nothing below zero, two still owed.
    down = await _correct(sessions, clock, signup_id, "3", "1")
    assert (down.points_due, down.points_applied, down.points_owed, down.balance) == (
        Decimal(-2), Decimal(0), Decimal(2), Decimal(0))
    # Points earned elsewhere are not chased for it…
    async with sessions() as s:
        await credit_hours(session=s, volunteer_id=volunteer, hours=Decimal(5), source_type="task", source_id=7,
                           now=clock.now())
        await s.commit()
    # …but the next correction of this service settles it first: 1 h → 2 h earns nothing more, and takes one back.
    up = await _correct(sessions, clock, signup_id, "1", "2")
    assert (up.points_due, up.points_applied, up.points_owed, up.balance) == (
        Decimal(1), Decimal(-1), Decimal(0), Decimal(4))
    # Settled: from now on the service's points follow its hours exactly (3 h = 3 points earned in all).
    again = await _correct(sessions, clock, signup_id, "2", "3")
    assert (again.points_applied, again.points_owed, again.balance) == (Decimal(1), Decimal(0), Decimal(5))


async def test_two_corrections_of_the_same_hours_at_once_one_applies(sessions, clock) -> None:
    signup_id, volunteer, _ = await _verified(sessions, clock, "2")
    results = await asyncio.gather(_correct(sessions, clock, signup_id, "2", "3"),
                                   _correct(sessions, clock, signup_id, "2", "1"))
    assert sorted(r is None for r in results) == [False, True]
    won = next(r for r in results if r is not None)
    async with sessions() as s:
        assert await total_hours(session=s, volunteer_id=volunteer) == (won.after, 1)
        assert await balance(session=s, person_id=volunteer) == won.after


async def test_a_correction_needs_another_amount_not_below_zero(sessions, clock) -> None:
    signup_id, _, _ = await _verified(sessions, clock, "2")
    with pytest.raises(ValueError):
        await _correct(sessions, clock, signup_id, "2", "2")
    with pytest.raises(ValueError):
        await _correct(sessions, clock, signup_id, "2", "-1")
    assert await _correct(sessions, clock, signup_id, "1", "3") is None  # not what it is now


async def test_a_correction_counts_on_the_data_map_where_the_activity_was_held(sessions, clock) -> None:
    from storage.datamap.figures import figures, figures_naive
    from storage.datamap.recount import maintained, recount

    signup_id, volunteer, village = await _verified(sessions, clock, "2")
    async with sessions() as s:
        # The volunteer lives elsewhere: the hours still belong to the village that held the activity.
        home = OrgUnit(code="H", name="家", level="station", path="")
        s.add(home)
        await s.flush()
        home.path = f"/{home.id}/"
        (await s.get(Person, volunteer)).org_unit_id = home.id
        await s.commit()
    await _correct(sessions, clock, signup_id, "2", "3")
    async with sessions() as s:
        held, lives = await s.get(OrgUnit, village), await s.get(OrgUnit, home.id)
        now = clock.now() + timedelta(hours=6)
        assert (await figures(s, held, now)).hours == Decimal(3)
        assert (await figures_naive(s, held, now)).hours == Decimal(3)
        assert (await figures(s, lives, now)).hours == Decimal(0)
        assert await maintained(s) == await recount(s)
