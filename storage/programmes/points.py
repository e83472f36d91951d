"""Points (积分) and the love supermarket (爱心超市): awards, balances, goods, redemptions.

Points follow from hours: `storage.tasks.hours.credit_hours` calls `award_for_hours` for each new
hours entry, in the same transaction, at the rate of the volunteer's home unit (the nearest
`PointsRule` up the tree, default 1 per hour); a correction of verified hours moves them by
`adjust`, which may take points back but never below a zero balance. A redemption is two
conditional UPDATEs in one savepoint — stock first (`stock >= n`), then balance (`balance >=
cost`) — so two shopkeepers racing for the last item cannot both win and no balance or stock
ever goes below zero, on SQLite (writers queue) or PostgreSQL (row locks). Functions take the
session as a keyword argument and leave committing to the caller.
"""

from __future__ import annotations

import enum
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import HoursEntry, OrgUnit, Person
from storage.models.points import (
    Goods,
    PointsAccount,
    PointsEntry,
    PointsRule,
    Redemption,
)
from storage.people.network import in_subtree
from storage.sql import insert_ignoring, path_ids

DEFAULT_RATE = Decimal(1)
# Hours-ledger sources that come from activities (`storage.activities`): named by the activity in 积分.
HOURS_FROM_ACTIVITY, HOURS_CORRECTION = "activity_signup", "hours_correction"
CENT = Decimal("0.01")
# No 0/O, 1/I/L: the code is read out at a shop counter and typed by the shopkeeper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6


class RedeemResult(enum.Enum):
    """How a redemption ended."""

    done = "done"
    out_of_stock = "out_of_stock"
    insufficient = "insufficient"


@dataclass(frozen=True)
class RedeemOutcome:
    """A redemption's result, the balance and stock after it, and the row when it succeeded."""

    result: RedeemResult
    balance: Decimal
    stock: int
    cost: int
    redemption: Redemption | None = None


# ---------------------------------------------------------------- rules


async def effective_rule(*, session: AsyncSession, unit_id: int | None) -> tuple[Decimal, int | None]:
    """Points per hour at a unit: the nearest rule at or above it, and the unit that set it."""
    if unit_id is None:
        return DEFAULT_RATE, None
    unit = await session.get(OrgUnit, unit_id)
    if unit is None:
        return DEFAULT_RATE, None
    line = path_ids(unit.path) or [unit.id]
    rules = {r.org_unit_id: r.points_per_hour for r in (await session.execute(
        select(PointsRule).where(PointsRule.org_unit_id.in_(line)))).scalars()}
    for uid in reversed(line):
        if uid in rules:
            return Decimal(rules[uid]), uid
    return DEFAULT_RATE, None


async def set_rule(*, session: AsyncSession, org_unit_id: int, points_per_hour: Decimal, now: datetime) -> bool:
    """Set a unit's points per hour (its subtree inherits it); True if it changed anything."""
    if points_per_hour < 0:
        raise ValueError("points per hour cannot be negative")
    rate = Decimal(points_per_hour).quantize(CENT)
    result = await session.execute(
        update(PointsRule).where(PointsRule.org_unit_id == org_unit_id)
        .values(points_per_hour=rate, updated_at=now).execution_options(synchronize_session=False))
    if getattr(result, "rowcount", 0) == 1:
        return True
    try:
        async with session.begin_nested():
            session.add(PointsRule(org_unit_id=org_unit_id, points_per_hour=rate, updated_at=now))
    except IntegrityError:
        # Another writer created it a moment ago: ours is the later word.
        await session.execute(
            update(PointsRule).where(PointsRule.org_unit_id == org_unit_id)
            .values(points_per_hour=rate, updated_at=now).execution_options(synchronize_session=False))
    return True


# ---------------------------------------------------------------- accounts


def normalize_code(raw: str) -> str:
    """A redemption code as stored: NFKC-folded, upper-case, no spaces."""
    return unicodedata.normalize("NFKC", raw).replace(" ", "").upper()


async def ensure_account(*, session: AsyncSession, person_id: int, now: datetime) -> PointsAccount:
    """The person's points account, created with a fresh redemption code on first use."""
    # populate_existing: a balance changed by an UPDATE earlier in this session must not read stale.
    stmt = (select(PointsAccount).where(PointsAccount.person_id == person_id)
            .execution_options(populate_existing=True))
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is not None:
        return found
    for _ in range(20):
        account = PointsAccount(person_id=person_id, balance=Decimal(0), created_at=now,
                                code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))
        try:
            async with session.begin_nested():
                session.add(account)
        except IntegrityError:
            # Either another worker opened this account meanwhile, or the code is taken.
            found = (await session.execute(stmt)).scalar_one_or_none()
            if found is not None:
                return found
            continue
        return account
    raise RuntimeError("could not find a free redemption code")


# `open_account`'s INSERT, the same on SQLite and PostgreSQL: a dialect's `on_conflict_do_nothing()`
# has no cache key (compiled anew each time), a text statement typed by the columns has one.
_ACCOUNT = PointsAccount.__table__.c
_OPEN = (
    text("INSERT INTO points_accounts (person_id, balance, code, created_at) "
         "VALUES (:person_id, :balance, :code, :created_at) ON CONFLICT DO NOTHING RETURNING balance, code")
    .bindparams(*(bindparam(name, type_=_ACCOUNT[name].type) for name in ("person_id", "balance", "code", "created_at")))
    .columns(_ACCOUNT.balance, _ACCOUNT.code)
)


async def open_account(*, session: AsyncSession, person_id: int, now: datetime) -> tuple[Decimal, str]:
    """(balance, code) of a person's account, opened now when it was not there a moment ago.

    For a caller that has just read that there is none (「我的」): one INSERT that skips a clash,
    rather than `ensure_account`'s read, savepoint and insert — three statements fewer.
    """
    for _ in range(20):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        opened = (await session.execute(_OPEN, {"person_id": person_id, "balance": Decimal(0),
                                                 "created_at": now, "code": code})).first()
        if opened is not None:
            return Decimal(opened[0]), opened[1]
        # Either another worker opened this account meanwhile, or the code is taken.
        found = (await session.execute(select(PointsAccount.balance, PointsAccount.code)
                                       .where(PointsAccount.person_id == person_id))).first()
        if found is not None:
            return Decimal(found[0]), found[1]
    raise RuntimeError("could not find a free redemption code")


async def open_accounts(session: AsyncSession, person_ids: Sequence[int], now: datetime) -> None:
    """Open the accounts of people who just became volunteers (a roster import), in one INSERT.

    At registration rather than at their first 「我的」, which then only reads. Someone who has
    one keeps it; the rare code already taken leaves that person to `open_account` on first look.
    """
    if not person_ids:
        return
    await session.execute(insert_ignoring(session, PointsAccount), [
        {"person_id": pid, "balance": Decimal(0), "created_at": now,
         "code": "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))} for pid in person_ids])


async def account_by_code(*, session: AsyncSession, code: str) -> PointsAccount | None:
    """The account a redemption code belongs to."""
    stmt = select(PointsAccount).where(PointsAccount.code == normalize_code(code))
    return (await session.execute(stmt)).scalar_one_or_none()


async def balance(*, session: AsyncSession, person_id: int) -> Decimal:
    """A person's current points (0 without an account)."""
    stmt = select(PointsAccount.balance).where(PointsAccount.person_id == person_id)
    return Decimal((await session.execute(stmt)).scalar_one_or_none() or 0)


async def _add(session: AsyncSession, person_id: int, delta: Decimal, source_type: str, source_id: int,
               now: datetime) -> PointsEntry | None:
    await ensure_account(session=session, person_id=person_id, now=now)
    try:
        async with session.begin_nested():
            new_balance = (await session.execute(
                update(PointsAccount).where(PointsAccount.person_id == person_id)
                .values(balance=PointsAccount.balance + delta).returning(PointsAccount.balance)
                .execution_options(synchronize_session=False))).scalar_one()
            entry = PointsEntry(person_id=person_id, delta=delta, balance_after=new_balance,
                                source_type=source_type, source_id=source_id, created_at=now)
            session.add(entry)
    except IntegrityError:
        return None  # this source was already counted; the savepoint undid the balance too
    return entry


async def rate_for(*, session: AsyncSession, person_id: int) -> Decimal:
    """Points per hour for a volunteer: the rule of their home unit."""
    unit_id = (await session.execute(select(Person.org_unit_id).where(Person.id == person_id))).scalar()
    rate, _ = await effective_rule(session=session, unit_id=unit_id)
    return rate


async def award_for_hours(*, session: AsyncSession, entry: HoursEntry) -> PointsEntry | None:
    """Award the points for one credited hours entry, once; None if nothing is due or already done."""
    points = (Decimal(entry.hours) * await rate_for(session=session, person_id=entry.volunteer_id)).quantize(CENT)
    if points <= 0:
        return None
    return await _add(session, entry.volunteer_id, points, "hours", entry.id, entry.credited_at)


async def adjust(
    *, session: AsyncSession, person_id: int, wanted: Decimal, source_type: str, source_id: int, now: datetime
) -> tuple[Decimal, Decimal]:
    """Add `wanted` points, or take them back when negative, as one ledger row; returns (applied, balance).

    The balance never goes below zero: what was already spent cannot be taken back, so a
    take-back stops at the balance (the caller says what is still owed). The account row is
    read locked, so a redemption at the counter meanwhile waits rather than spending the same
    points. Nothing is written when nothing changes.
    """
    await ensure_account(session=session, person_id=person_id, now=now)
    held = Decimal((await session.execute(
        select(PointsAccount.balance).where(PointsAccount.person_id == person_id).with_for_update()
    )).scalar_one())
    applied = Decimal(wanted).quantize(CENT) if wanted >= 0 else max(Decimal(wanted).quantize(CENT), -held)
    if applied == 0:
        return Decimal(0), held
    entry = await _add(session, person_id, applied, source_type, source_id, now)
    if entry is None:  # this source was adjusted already
        return Decimal(0), await balance(session=session, person_id=person_id)
    return applied, Decimal(entry.balance_after)


# ---------------------------------------------------------------- goods and redemption


async def stock_goods(
    *, session: AsyncSession, org_unit_id: int, name: str, price: int, added: int, now: datetime
) -> Goods:
    """Put goods on a shop's shelf (上架): new at `added`, or restocked by `added` at the new price."""
    if price <= 0 or added < 0:
        raise ValueError("price must be positive and the stock added not negative")
    cond = (Goods.org_unit_id == org_unit_id, Goods.name == name)
    result = await session.execute(
        update(Goods).where(*cond).values(price=price, stock=Goods.stock + added, active=True, updated_at=now)
        .execution_options(synchronize_session=False))
    if getattr(result, "rowcount", 0) == 0:
        try:
            async with session.begin_nested():
                session.add(Goods(org_unit_id=org_unit_id, name=name, price=price, stock=added, active=True,
                                  updated_at=now))
        except IntegrityError:
            await session.execute(
                update(Goods).where(*cond).values(price=price, stock=Goods.stock + added, active=True,
                                                   updated_at=now).execution_options(synchronize_session=False))
    goods = (await session.execute(select(Goods).where(*cond))).scalar_one()
    await session.refresh(goods)
    return goods


async def shop_goods(*, session: AsyncSession, unit_ids: list[int], name: str | None = None) -> list[Goods]:
    """Goods on the shelves of these units (all, or those whose name contains `name`)."""
    stmt = select(Goods).where(Goods.org_unit_id.in_(unit_ids), Goods.active.is_(True))
    if name:
        stmt = stmt.where(Goods.name.contains(name, autoescape=True))
    goods = list((await session.execute(stmt.order_by(Goods.org_unit_id, Goods.id))).scalars())
    exact = [g for g in goods if g.name == name]
    return exact or goods


async def shops_below(*, session: AsyncSession, unit: OrgUnit) -> list[OrgUnit]:
    """Units in a subtree whose shelves hold goods on offer, by id (the love supermarkets below a home)."""
    stmt = (select(OrgUnit).join(Goods, Goods.org_unit_id == OrgUnit.id)
            .where(in_subtree(OrgUnit.path, unit.path), Goods.active.is_(True)).distinct().order_by(OrgUnit.id))
    return list((await session.execute(stmt)).scalars())


async def redeem(
    *, session: AsyncSession, person_id: int, goods_id: int, quantity: int, shopkeeper_id: int | None,
    now: datetime,
) -> RedeemOutcome:
    """Hand over `quantity` of a good for points (兑换): all of it or nothing."""
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    await ensure_account(session=session, person_id=person_id, now=now)
    try:
        async with session.begin_nested():
            taken = (await session.execute(
                update(Goods).where(Goods.id == goods_id, Goods.active.is_(True), Goods.stock >= quantity)
                .values(stock=Goods.stock - quantity, updated_at=now).returning(Goods.price, Goods.stock)
                .execution_options(synchronize_session=False))).first()
            if taken is None:
                raise _Refused(RedeemResult.out_of_stock, 0)
            price, stock_left = int(taken[0]), int(taken[1])
            cost = price * quantity
            left = (await session.execute(
                update(PointsAccount).where(PointsAccount.person_id == person_id, PointsAccount.balance >= cost)
                .values(balance=PointsAccount.balance - cost).returning(PointsAccount.balance)
                .execution_options(synchronize_session=False))).scalar_one_or_none()
            if left is None:
                raise _Refused(RedeemResult.insufficient, cost)  # the savepoint puts the stock back
            row = Redemption(person_id=person_id, goods_id=goods_id, quantity=quantity, points=cost,
                             shopkeeper_id=shopkeeper_id, created_at=now)
            session.add(row)
            await session.flush()
            session.add(PointsEntry(person_id=person_id, delta=Decimal(-cost), balance_after=left,
                                    source_type="redemption", source_id=row.id, created_at=now))
            await session.flush()
    except _Refused as refused:
        goods = await session.get(Goods, goods_id)
        if goods is not None:
            await session.refresh(goods)
        cost = refused.cost or (goods.price * quantity if goods is not None else 0)
        return RedeemOutcome(refused.result, await balance(session=session, person_id=person_id),
                             goods.stock if goods is not None else 0, cost)
    return RedeemOutcome(RedeemResult.done, Decimal(left), stock_left, cost, row)


class _Refused(Exception):
    def __init__(self, result: RedeemResult, cost: int) -> None:
        super().__init__(result.value)
        self.result, self.cost = result, cost
