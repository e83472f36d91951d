"""Wish transitions are conditional: one claimant ever wins, and no step can be skipped or repeated."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select

from storage.models import OrgUnit, Person
from storage.models.wishes import Wish
from storage.programmes.wishes import (
    ClaimResult,
    claim_wish,
    confirm_wish,
    fulfil_wish,
    publish_wish,
    submit_wish,
    wishes_claimed_by,
    wishes_under,
)


async def _setup(sessions, clock, volunteers: int) -> tuple[int, list[int], int, int]:
    async with sessions() as s:
        county = OrgUnit(code="C", name="县中心", level="center", path="")
        s.add(county)
        await s.flush()
        county.path = f"/{county.id}/"
        village = OrgUnit(code="V", name="东台吉村站", level="station", parent_id=county.id, path="")
        s.add(village)
        await s.flush()
        village.path = f"{county.path}{village.id}/"
        secretary = Person(name="书记", created_at=clock.now())
        people = [Person(name=f"v{i}", is_volunteer=True, created_at=clock.now()) for i in range(volunteers)]
        s.add_all([secretary, *people])
        await s.flush()
        wish = await submit_wish(session=s, org_unit_id=village.id, household="李大爷", description="想要一台收音机",
                                 submitted_by_id=secretary.id, now=clock.now())
        await s.commit()
        return wish.id, [p.id for p in people], secretary.id, county.id


async def test_two_volunteers_claiming_one_wish_one_wins(sessions, clock) -> None:
    wish_id, (a, b), secretary, _ = await _setup(sessions, clock, volunteers=2)
    async with sessions() as s:
        assert await publish_wish(session=s, wish_id=wish_id, by_id=secretary, now=clock.now())
        await s.commit()

    async def claim(vid: int) -> ClaimResult:
        async with sessions() as s:
            result = await claim_wish(session=s, wish_id=wish_id, volunteer_id=vid, now=clock.now())
            await s.commit()
            return result

    results = await asyncio.gather(claim(a), claim(b))
    assert Counter(results) == {ClaimResult.won: 1, ClaimResult.taken: 1}
    async with sessions() as s:
        wish = await s.get(Wish, wish_id)
        winner = a if results[0] is ClaimResult.won else b
        assert wish.status == "claimed" and wish.claimed_by_id == winner


async def test_thirty_simultaneous_claims_one_winner(sessions, clock) -> None:
    wish_id, people, secretary, _ = await _setup(sessions, clock, volunteers=30)
    async with sessions() as s:
        await publish_wish(session=s, wish_id=wish_id, by_id=secretary, now=clock.now())
        await s.commit()

    async def claim(vid: int) -> ClaimResult:
        async with sessions() as s:
            result = await claim_wish(session=s, wish_id=wish_id, volunteer_id=vid, now=clock.now())
            await s.commit()
            return result

    results = await asyncio.gather(*(claim(v) for v in people))
    assert Counter(results) == {ClaimResult.won: 1, ClaimResult.taken: 29}


async def test_steps_happen_in_order_once(sessions, clock) -> None:
    wish_id, (a, b), secretary, county_id = await _setup(sessions, clock, volunteers=2)
    async with sessions() as s:
        # Not yet published: nobody can claim; nothing to fulfil or confirm.
        assert await claim_wish(session=s, wish_id=wish_id, volunteer_id=a, now=clock.now()) is ClaimResult.not_open
        assert not await fulfil_wish(session=s, wish_id=wish_id, volunteer_id=a, proof=[{"kind": "text", "ref": "x"}],
                                     now=clock.now())
        assert not await confirm_wish(session=s, wish_id=wish_id, by_id=secretary, now=clock.now())
        assert await publish_wish(session=s, wish_id=wish_id, by_id=secretary, now=clock.now())
        assert not await publish_wish(session=s, wish_id=wish_id, by_id=secretary, now=clock.now())
        assert await claim_wish(session=s, wish_id=wish_id, volunteer_id=a, now=clock.now()) is ClaimResult.won
        assert await claim_wish(session=s, wish_id=wish_id, volunteer_id=a, now=clock.now()) is ClaimResult.already
        # Only the claimant fulfils, and only with proof.
        assert not await fulfil_wish(session=s, wish_id=wish_id, volunteer_id=b, proof=[{"kind": "photo", "ref": "p"}],
                                     now=clock.now())
        with pytest.raises(ValueError):
            await fulfil_wish(session=s, wish_id=wish_id, volunteer_id=a, proof=[], now=clock.now())
        assert await fulfil_wish(session=s, wish_id=wish_id, volunteer_id=a, proof=[{"kind": "photo", "ref": "p1"}],
                                 now=clock.now())
        assert await confirm_wish(session=s, wish_id=wish_id, by_id=secretary, now=clock.now())
        assert not await confirm_wish(session=s, wish_id=wish_id, by_id=secretary, now=clock.now())
        await s.commit()
    async with sessions() as s:
        wish = await s.get(Wish, wish_id)
        assert wish.status == "confirmed" and wish.proof == [{"kind": "photo", "ref": "p1"}]
        assert wish.confirmed_by_id == secretary and wish.published_by_id == secretary
        county = await s.get(OrgUnit, county_id)
        assert [w.id for w in await wishes_under(session=s, unit=county)] == [wish_id]
        assert await wishes_under(session=s, unit=county, statuses=("published",)) == []
        assert [w.id for w in await wishes_claimed_by(session=s, volunteer_id=a)] == [wish_id]
        assert (await s.execute(select(Wish.claimed_by_id))).scalar_one() == a
