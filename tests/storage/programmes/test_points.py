"""Points and the love supermarket: rules inherited down the tree, awards from hours, atomic redemption."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from storage.models import OrgUnit, Person
from storage.models.points import Goods, PointsAccount, PointsEntry, Redemption
from storage.programmes.points import (
    CODE_ALPHABET,
    RedeemResult,
    account_by_code,
    adjust,
    balance,
    effective_rule,
    ensure_account,
    open_account,
    redeem,
    set_rule,
    stock_goods,
)
from storage.programmes.points_history import history
from storage.tasks.hours import credit_hours


async def _network(sessions, clock) -> dict[str, int]:
    """center ─ institute ─ (station A, station B); people at A, B and the center."""
    ids: dict[str, int] = {}
    async with sessions() as s:
        for code, level, parent in [("C", "center", None), ("I", "institute", "C"), ("A", "station", "I"),
                                    ("B", "station", "I")]:
            unit = OrgUnit(code=code, name=f"{code}站", level=level, parent_id=ids.get(parent), path="")
            s.add(unit)
            await s.flush()
            parent_path = (await s.get(OrgUnit, ids[parent])).path if parent else "/"
            unit.path = f"{parent_path}{unit.id}/"
            ids[code] = unit.id
        for name, unit in [("va", "A"), ("vb", "B"), ("vc", "C"), ("vx", "A"), ("shop", "A")]:
            p = Person(name=name, org_unit_id=ids[unit], is_volunteer=True, created_at=clock.now())
            s.add(p)
            await s.flush()
            ids[name] = p.id
        await s.commit()
    return ids


async def _give(sessions, clock, person_id: int, hours: str, source_id: int) -> None:
    async with sessions() as s:
        await credit_hours(session=s, volunteer_id=person_id, hours=Decimal(hours), source_type="task",
                           source_id=source_id, now=clock.now())
        await s.commit()


async def test_rules_are_inherited_down_the_tree_unless_overridden(sessions, clock) -> None:
    ids = await _network(sessions, clock)
    async with sessions() as s:
        assert await effective_rule(session=s, unit_id=ids["A"]) == (Decimal(1), None)
        await set_rule(session=s, org_unit_id=ids["I"], points_per_hour=Decimal(2), now=clock.now())
        await set_rule(session=s, org_unit_id=ids["B"], points_per_hour=Decimal("0.5"), now=clock.now())
        await s.commit()
    async with sessions() as s:
        assert await effective_rule(session=s, unit_id=ids["A"]) == (Decimal(2), ids["I"])
        assert await effective_rule(session=s, unit_id=ids["B"]) == (Decimal("0.5"), ids["B"])
        assert await effective_rule(session=s, unit_id=ids["C"]) == (Decimal(1), None)
        assert await effective_rule(session=s, unit_id=None) == (Decimal(1), None)
        await set_rule(session=s, org_unit_id=ids["I"], points_per_hour=Decimal(3), now=clock.now())  # update
        await s.commit()
    async with sessions() as s:
        assert (await effective_rule(session=s, unit_id=ids["A"]))[0] == Decimal(3)
        with pytest.raises(ValueError):
            await set_rule(session=s, org_unit_id=ids["A"], points_per_hour=Decimal(-1), now=clock.now())


async def test_credited_hours_award_points_once_at_the_home_units_rate(sessions, clock) -> None:
    ids = await _network(sessions, clock)
    async with sessions() as s:
        await set_rule(session=s, org_unit_id=ids["I"], points_per_hour=Decimal(2), now=clock.now())
        await set_rule(session=s, org_unit_id=ids["B"], points_per_hour=Decimal(0), now=clock.now())
        await s.commit()
    await _give(sessions, clock, ids["va"], "1.5", 1)
    await _give(sessions, clock, ids["va"], "1.5", 1)  # the same source again: nothing more
    await _give(sessions, clock, ids["vc"], "2", 2)
    await _give(sessions, clock, ids["vb"], "4", 3)  # rate 0: hours, but no points row
    async with sessions() as s:
        assert await balance(session=s, person_id=ids["va"]) == Decimal(3)
        assert await balance(session=s, person_id=ids["vc"]) == Decimal(2)
        assert await balance(session=s, person_id=ids["vb"]) == 0
        rows = (await s.execute(select(PointsEntry).order_by(PointsEntry.id))).scalars().all()
        assert [(r.person_id, r.delta, r.balance_after, r.source_type) for r in rows] == [
            (ids["va"], Decimal(3), Decimal(3), "hours"), (ids["vc"], Decimal(2), Decimal(2), "hours")]
        lines = await history(session=s, person_id=ids["va"])
        assert [(h.what, h.ref_id, h.amount) for h in lines] == [("task", 1, Decimal("1.5"))]


async def test_points_roll_back_with_the_hours_they_came_from(sessions, clock) -> None:
    ids = await _network(sessions, clock)
    async with sessions() as s:
        await credit_hours(session=s, volunteer_id=ids["va"], hours=Decimal(2), source_type="task", source_id=9,
                           now=clock.now())
        await s.rollback()
    async with sessions() as s:
        assert (await s.execute(select(func.count(PointsEntry.id)))).scalar_one() == 0
        assert await balance(session=s, person_id=ids["va"]) == 0


async def test_an_adjustment_takes_points_back_only_down_to_zero(sessions, clock) -> None:
    ids = await _network(sessions, clock)
    await _give(sessions, clock, ids["va"], "2", 1)
    async with sessions() as s:
        # More than the balance: it stops at zero and says how far it went.
        assert await adjust(session=s, person_id=ids["va"], wanted=Decimal(-5), source_type="hours", source_id=100,
                            now=clock.now()) == (Decimal(-2), Decimal(0))
        assert await adjust(session=s, person_id=ids["va"], wanted=Decimal(-1), source_type="hours", source_id=101,
                            now=clock.now()) == (Decimal(0), Decimal(0))
        assert await adjust(session=s, person_id=ids["va"], wanted=Decimal("1.5"), source_type="hours",
                            source_id=102, now=clock.now()) == (Decimal("1.5"), Decimal("1.5"))
        # The same source again moves nothing.
        assert await adjust(session=s, person_id=ids["va"], wanted=Decimal(3), source_type="hours", source_id=102,
                            now=clock.now()) == (Decimal(0), Decimal("1.5"))
        await s.commit()
    async with sessions() as s:
        rows = (await s.execute(select(PointsEntry.delta, PointsEntry.balance_after, PointsEntry.source_id)
                                .order_by(PointsEntry.id))).all()
        # A row for each change that moved the balance, none for the one that could not.
        assert [tuple(r) for r in rows] == [(Decimal(2), Decimal(2), 1), (Decimal(-2), Decimal(0), 100),
                                            (Decimal("1.5"), Decimal("1.5"), 102)]


async def _shop(sessions, clock, ids, stock: int, price: int = 5) -> int:
    async with sessions() as s:
        goods = await stock_goods(session=s, org_unit_id=ids["A"], name="毛巾", price=price, added=stock,
                                  now=clock.now())
        await s.commit()
        return goods.id


async def test_two_shopkeepers_redeeming_the_last_item_at_once_one_wins(sessions, clock) -> None:
    ids = await _network(sessions, clock)
    await _give(sessions, clock, ids["va"], "10", 1)
    await _give(sessions, clock, ids["vx"], "10", 2)
    goods_id = await _shop(sessions, clock, ids, stock=1)

    async def at_counter(person: str) -> RedeemResult:
        async with sessions() as s:
            outcome = await redeem(session=s, person_id=ids[person], goods_id=goods_id, quantity=1,
                                   shopkeeper_id=ids["shop"], now=clock.now())
            await s.commit()
            return outcome.result

    results = await asyncio.gather(at_counter("va"), at_counter("vx"))
    assert Counter(results) == {RedeemResult.done: 1, RedeemResult.out_of_stock: 1}
    async with sessions() as s:
        assert (await s.get(Goods, goods_id)).stock == 0
        balances = sorted([await balance(session=s, person_id=ids[p]) for p in ("va", "vx")])
        assert balances == [Decimal(5), Decimal(10)]
        assert (await s.execute(select(func.count(Redemption.id)))).scalar_one() == 1


async def test_many_simultaneous_redemptions_never_overdraw_balance_or_stock(sessions, clock) -> None:
    ids = await _network(sessions, clock)
    await _give(sessions, clock, ids["va"], "17", 1)  # 17 points: three towels at 5, not four
    goods_id = await _shop(sessions, clock, ids, stock=10)

    async def at_counter() -> RedeemResult:
        async with sessions() as s:
            outcome = await redeem(session=s, person_id=ids["va"], goods_id=goods_id, quantity=1,
                                   shopkeeper_id=ids["shop"], now=clock.now())
            await s.commit()
            return outcome.result

    results = await asyncio.gather(*(at_counter() for _ in range(12)))
    assert Counter(results) == {RedeemResult.done: 3, RedeemResult.insufficient: 9}
    async with sessions() as s:
        assert (await s.get(Goods, goods_id)).stock == 7  # refused ones put their stock back
        assert await balance(session=s, person_id=ids["va"]) == Decimal(2)
        ledger = (await s.execute(select(PointsEntry).where(PointsEntry.person_id == ids["va"])
                                  .order_by(PointsEntry.id))).scalars().all()
        assert sum(e.delta for e in ledger) == Decimal(2)
        assert [e.balance_after for e in ledger] == [Decimal(17), Decimal(12), Decimal(7), Decimal(2)]
        assert min(e.balance_after for e in ledger) >= 0


async def test_refused_redemptions_change_nothing(sessions, clock) -> None:
    ids = await _network(sessions, clock)
    await _give(sessions, clock, ids["va"], "3", 1)
    goods_id = await _shop(sessions, clock, ids, stock=2)
    async with sessions() as s:
        poor = await redeem(session=s, person_id=ids["va"], goods_id=goods_id, quantity=1, shopkeeper_id=None,
                            now=clock.now())
        assert (poor.result, poor.balance, poor.stock, poor.cost) == (RedeemResult.insufficient, Decimal(3), 2, 5)
        greedy = await redeem(session=s, person_id=ids["vb"], goods_id=goods_id, quantity=3, shopkeeper_id=None,
                              now=clock.now())
        assert greedy.result is RedeemResult.out_of_stock and greedy.stock == 2
        with pytest.raises(ValueError):
            await redeem(session=s, person_id=ids["va"], goods_id=goods_id, quantity=0, shopkeeper_id=None,
                         now=clock.now())
        await s.commit()
    async with sessions() as s:
        assert (await s.get(Goods, goods_id)).stock == 2
        assert (await s.execute(select(func.count(Redemption.id)))).scalar_one() == 0
        assert (await s.execute(select(func.count(PointsEntry.id)))).scalar_one() == 1


async def test_database_refuses_a_negative_balance_or_stock_whatever_the_code(sessions, clock) -> None:
    ids = await _network(sessions, clock)
    goods_id = await _shop(sessions, clock, ids, stock=1)
    async with sessions() as s:
        await ensure_account(session=s, person_id=ids["va"], now=clock.now())
        await s.commit()
    for stmt in (update(PointsAccount).values(balance=-1), update(Goods).where(Goods.id == goods_id).values(stock=-1)):
        async with sessions() as s:
            with pytest.raises(IntegrityError):
                await s.execute(stmt)
            await s.rollback()


async def test_redemption_code_is_short_stable_and_not_the_phone(sessions, clock) -> None:
    ids = await _network(sessions, clock)

    async def open_account() -> str:
        async with sessions() as s:
            account = await ensure_account(session=s, person_id=ids["va"], now=clock.now())
            await s.commit()
            return account.code

    codes = set(await asyncio.gather(*(open_account() for _ in range(5))))
    assert len(codes) == 1
    code = codes.pop()
    assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
    async with sessions() as s:
        assert (await s.execute(select(func.count()).select_from(PointsAccount))).scalar_one() == 1
        found = await account_by_code(session=s, code=f" {code.lower()} ")
        assert found is not None and found.person_id == ids["va"]
        assert await account_by_code(session=s, code="NOPE42") is None


async def test_restocking_adds_to_the_shelf_at_the_new_price(sessions, clock) -> None:
    ids = await _network(sessions, clock)
    goods_id = await _shop(sessions, clock, ids, stock=3, price=5)
    async with sessions() as s:
        again = await stock_goods(session=s, org_unit_id=ids["A"], name="毛巾", price=6, added=4, now=clock.now())
        await s.commit()
    assert again.id == goods_id and again.stock == 7 and again.price == 6
    async with sessions() as s:
        with pytest.raises(ValueError):
            await stock_goods(session=s, org_unit_id=ids["A"], name="毛巾", price=0, added=1, now=clock.now())


async def test_opening_an_account_keeps_one_opened_meanwhile_and_never_reuses_a_code(sessions, clock, monkeypatch) -> None:
    async with sessions() as s:
        a, b = Person(name="甲", created_at=clock.now()), Person(name="乙", created_at=clock.now())
        s.add_all([a, b])
        await s.flush()
        first = await ensure_account(session=s, person_id=a.id, now=clock.now())
        # Another worker opened 甲's account meanwhile: its balance and code are kept.
        assert await open_account(session=s, person_id=a.id, now=clock.now()) == (Decimal(0), first.code)
        # 乙's first code drawn clashes with 甲's: another is drawn.
        draws = iter(list(first.code) + list("ZZZZZZZZ"))
        monkeypatch.setattr("storage.programmes.points.secrets.choice", lambda _alphabet: next(draws))
        opened = await open_account(session=s, person_id=b.id, now=clock.now())
        await s.commit()
    assert opened[0] == Decimal(0) and opened[1] != first.code and set(opened[1]) == {"Z"}
    async with sessions() as s:
        codes = dict((await s.execute(select(PointsAccount.person_id, PointsAccount.code))).all())
    assert codes == {a.id: first.code, b.id: opened[1]}
