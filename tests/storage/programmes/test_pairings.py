"""Pairings: pairing is idempotent, visits are counted per pairing per calendar month of the region."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from storage.models import OrgUnit, Person
from storage.models.pairings import Pairing
from storage.programmes.pairings import (
    MonthCount,
    add_pairing,
    end_pairing,
    log_visit,
    month_bounds,
    monthly_counts,
    pairings_of,
    pairings_under,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def _setup(sessions, clock) -> tuple[int, int, int]:
    async with sessions() as s:
        unit = OrgUnit(code="V", name="蓬莱社区站", level="station", path="")
        s.add(unit)
        await s.flush()
        unit.path = f"/{unit.id}/"
        volunteer = Person(name="罗桂英", is_volunteer=True, party_member=True, created_at=clock.now())
        s.add(volunteer)
        await s.commit()
        return unit.id, volunteer.id, 0


def test_month_bounds_follow_the_regions_calendar() -> None:
    # 2026-11-30 17:00 UTC is already 1 December in Beijing.
    start, end = month_bounds(datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc), SHANGHAI)
    assert start == datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)
    assert end == datetime(2026, 12, 31, 16, 0, tzinfo=timezone.utc)
    start, end = month_bounds(datetime(2026, 12, 15, tzinfo=timezone.utc), SHANGHAI)
    assert end == datetime(2026, 12, 31, 16, 0, tzinfo=timezone.utc)


async def test_pairing_twice_is_one_pairing(sessions, clock) -> None:
    unit_id, vid, _ = await _setup(sessions, clock)
    async with sessions() as s:
        first, created = await add_pairing(session=s, volunteer_id=vid, org_unit_id=unit_id, household_name="王大娘",
                                           household_phone=None, now=clock.now())
        assert created
        again, created = await add_pairing(session=s, volunteer_id=vid, org_unit_id=unit_id, household_name="王大娘",
                                           household_phone="13900000901", now=clock.now())
        assert not created and again.id == first.id and again.household_phone == "13900000901"
        await s.commit()
    async with sessions() as s:
        assert (await s.execute(select(func.count(Pairing.id)))).scalar_one() == 1
        assert await end_pairing(session=s, pairing_id=first.id)
        assert not await end_pairing(session=s, pairing_id=first.id)
        assert await pairings_of(session=s, volunteer_id=vid) == []
        await s.commit()


async def test_monthly_counts_per_pairing(sessions, clock) -> None:
    unit_id, vid, _ = await _setup(sessions, clock)
    async with sessions() as s:
        wang, _ = await add_pairing(session=s, volunteer_id=vid, org_unit_id=unit_id, household_name="王大娘",
                                    household_phone=None, now=clock.now())
        sun, _ = await add_pairing(session=s, volunteer_id=vid, org_unit_id=unit_id, household_name="孙奶奶",
                                   household_phone=None, now=clock.now())
        now = clock.now()  # 28 November, Beijing
        await log_visit(session=s, pairing_id=wang.id, note="解决了取暖问题", problems_solved=1, now=now)
        await log_visit(session=s, pairing_id=wang.id, note="送药", problems_solved=2, now=now + timedelta(days=1))
        await log_visit(session=s, pairing_id=wang.id, note="上个月", problems_solved=5, now=now - timedelta(days=30))
        await log_visit(session=s, pairing_id=wang.id, note="下个月", problems_solved=7, now=now + timedelta(days=3))
        with pytest.raises(ValueError):
            await log_visit(session=s, pairing_id=wang.id, note="?", problems_solved=-1, now=now)
        await s.commit()
    start, end = month_bounds(now, SHANGHAI)
    async with sessions() as s:
        counts = await monthly_counts(session=s, pairing_ids=[wang.id, sun.id], start=start, end=end)
        assert counts == {wang.id: MonthCount(2, 3), sun.id: MonthCount(0, 0)}
        assert await monthly_counts(session=s, pairing_ids=[], start=start, end=end) == {}
        unit = await s.get(OrgUnit, unit_id)
        rows = await pairings_under(session=s, unit=unit)
        assert [(p.household_name, v.name) for p, v in rows] == [("王大娘", "罗桂英"), ("孙奶奶", "罗桂英")]
