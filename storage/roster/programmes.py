"""Roster files for the service programmes: pairings.csv, goods.csv and points_rules.csv.

All three are optional and follow the rules of the network files (`storage.roster.importing`):
every row is checked first and reported as `file:line: reason`; a file with any error is not
written at all; re-importing updates rows matched by their natural key and never duplicates.

- `pairings.csv` — `volunteer_phone,household_name,household_phone,org_code` (结对帮扶): keyed
  by (volunteer, village, household name); the household phone may be blank. Pairings missing
  from a later file are kept, like team memberships.
- `goods.csv` — `org_code,name,points,stock` (爱心超市): keyed by (shop, name); the stock in the
  file is a stocktake and replaces the shelf count.
- `points_rules.csv` — `org_code,points_per_hour` (积分规则): one rule per unit, inherited by
  its subtree unless a lower unit has its own.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OrgUnit
from storage.models.pairings import Pairing
from storage.models.points import Goods, PointsRule
from storage.roster.checks import _each, _finish, _required, _unique
from storage.roster.files import (
    RESIDENT_LEVELS,
    ROLE_LEVELS,
    Checked,
    Known,
    Row,
    RowError,
    Table,
    parse_code,
    parse_phone,
)
from storage.roster.lookups import FileCounts, by_code, chunks, people_by_phone

MAX_PRICE = 100_000
MAX_STOCK = 100_000
MAX_RATE = Decimal(1000)


@dataclass(frozen=True)
class PairingRecord:
    """A pairings row."""

    line: int
    volunteer_phone: str
    household_name: str
    household_phone: str | None
    org_code: str


@dataclass(frozen=True)
class GoodsRecord:
    """A goods row."""

    line: int
    org_code: str
    name: str
    points: int
    stock: int


@dataclass(frozen=True)
class RuleRecord:
    """A points_rules row."""

    line: int
    org_code: str
    points_per_hour: Decimal


def parse_count(raw: str, column: str, low: int, high: int) -> int:
    """A whole number in [low, high] ("20", "20.0" from a spreadsheet)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError(f"{column} {raw!r} is not a number") from None
    if value != value.to_integral_value() or not low <= value <= high:
        raise RowError(f"{column} {raw!r} must be a whole number from {low} to {high}")
    return int(value)


def parse_rate(raw: str) -> Decimal:
    """Points per hour: 0 to 1000, at most two decimals."""
    text = unicodedata.normalize("NFKC", raw).strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError(f"points_per_hour {raw!r} is not a number") from None
    if not value.is_finite() or not 0 <= value <= MAX_RATE or value != value.quantize(Decimal("0.01")):
        raise RowError(f"points_per_hour {raw!r} must be from 0 to {MAX_RATE} with at most two decimals")
    return value


def _unit_at(known: Known, code: str, levels: tuple[str, ...], what: str) -> None:
    level = known.unit(code, "org_code").level
    if level not in levels:
        raise RowError(f"org_code {code} is a {level}; {what} belong to a {'/'.join(levels)}")


# ---------------------------------------------------------------- checks (no database)


def check_pairings(table: Table, known: Known) -> Checked[PairingRecord]:
    """Check pairings rows: a known volunteer, a household name, an optional phone, a village."""
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}

    def parse(row: Row) -> PairingRecord:
        phone = parse_phone(_required(row, "volunteer_phone"))
        household = _required(row, "household_name", 100)
        household_phone = parse_phone(row.get("household_phone")) if row.get("household_phone") else None
        org_code = parse_code(_required(row, "org_code"), "org_code")
        _unique(f"{phone} {household} {org_code}", row.line, seen, "pairing")
        known.person(phone)
        _unit_at(known, org_code, RESIDENT_LEVELS, "households")
        return PairingRecord(row.line, phone, household, household_phone, org_code)

    good = _each(table, problems, parse)
    return Checked(table.filename, good, _finish(table, problems))


def check_goods(table: Table, known: Known) -> Checked[GoodsRecord]:
    """Check goods rows: a shop (station or point), a name, a positive price and a stock."""
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}

    def parse(row: Row) -> GoodsRecord:
        org_code = parse_code(_required(row, "org_code"), "org_code")
        name = _required(row, "name", 100)
        _unique(f"{name} at {org_code}", row.line, seen, "goods")
        points = parse_count(_required(row, "points"), "points", 1, MAX_PRICE)
        stock = parse_count(_required(row, "stock"), "stock", 0, MAX_STOCK)
        _unit_at(known, org_code, ROLE_LEVELS["shopkeeper"], "love-supermarket goods")
        return GoodsRecord(row.line, org_code, name, points, stock)

    good = _each(table, problems, parse)
    return Checked(table.filename, good, _finish(table, problems))


def check_points_rules(table: Table, known: Known) -> Checked[RuleRecord]:
    """Check points_rules rows: a known unit, once, and a rate from 0 to 1000."""
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}

    def parse(row: Row) -> RuleRecord:
        org_code = _unique(parse_code(_required(row, "org_code"), "org_code"), row.line, seen, "org_code")
        rate = parse_rate(_required(row, "points_per_hour"))
        known.unit(org_code, "org_code")
        return RuleRecord(row.line, org_code, rate)

    good = _each(table, problems, parse)
    return Checked(table.filename, good, _finish(table, problems))


# ---------------------------------------------------------------- writers


async def write_pairings(session: AsyncSession, records: list[PairingRecord], now: datetime) -> FileCounts:
    """Create or update pairings by (volunteer, village, household name)."""
    people = await people_by_phone(session, [r.volunteer_phone for r in records])
    units = await by_code(session, OrgUnit, {r.org_code for r in records})
    existing: dict[tuple[int, int, str], Pairing] = {}
    for chunk in chunks(sorted({p.id for p in people.values()})):
        for p in (await session.execute(select(Pairing).where(Pairing.volunteer_id.in_(chunk)))).scalars():
            existing[(p.volunteer_id, p.org_unit_id, p.household_name)] = p
    counts = FileCounts()
    for rec in records:
        key = (people[rec.volunteer_phone].id, units[rec.org_code].id, rec.household_name)
        row = existing.get(key)
        before = None if row is None else (row.household_phone, row.active)
        if row is None:
            existing[key] = row = Pairing(volunteer_id=key[0], org_unit_id=key[1], household_name=key[2],
                                          created_at=now)
            session.add(row)
        row.household_phone, row.active = rec.household_phone, True
        counts.tally(before, (row.household_phone, row.active))
    await session.flush()
    return counts


async def write_goods(session: AsyncSession, records: list[GoodsRecord], now: datetime) -> FileCounts:
    """Create or update goods by (shop, name); the file's stock replaces the shelf count."""
    units = await by_code(session, OrgUnit, {r.org_code for r in records})
    existing: dict[tuple[int, str], Goods] = {}
    for chunk in chunks(sorted({u.id for u in units.values()})):
        for g in (await session.execute(select(Goods).where(Goods.org_unit_id.in_(chunk)))).scalars():
            existing[(g.org_unit_id, g.name)] = g
    counts = FileCounts()
    for rec in records:
        key = (units[rec.org_code].id, rec.name)
        row = existing.get(key)
        before = None if row is None else (row.price, row.stock, row.active)
        if row is None:
            existing[key] = row = Goods(org_unit_id=key[0], name=rec.name)
            session.add(row)
        if before is None or before != (rec.points, rec.stock, True):
            row.price, row.stock, row.active, row.updated_at = rec.points, rec.stock, True, now
        counts.tally(before, (row.price, row.stock, row.active))
    await session.flush()
    return counts


async def write_points_rules(session: AsyncSession, records: list[RuleRecord], now: datetime) -> FileCounts:
    """Create or update one points rule per unit."""
    units = await by_code(session, OrgUnit, {r.org_code for r in records})
    ids = sorted({u.id for u in units.values()})
    existing = {r.org_unit_id: r for r in (await session.execute(
        select(PointsRule).where(PointsRule.org_unit_id.in_(ids)))).scalars()} if ids else {}
    counts = FileCounts()
    for rec in records:
        unit_id = units[rec.org_code].id
        row = existing.get(unit_id)
        before = None if row is None else (Decimal(row.points_per_hour),)
        if row is None:
            existing[unit_id] = row = PointsRule(org_unit_id=unit_id)
            session.add(row)
        if before != (rec.points_per_hour,):
            row.points_per_hour, row.updated_at = rec.points_per_hour, now
        counts.tally(before, (Decimal(row.points_per_hour),))
    await session.flush()
    return counts


PROGRAMME_CHECKERS: dict[str, Callable[[Table, Known], Checked[Any]]] = {
    "pairings": check_pairings,
    "goods": check_goods,
    "points_rules": check_points_rules,
}
PROGRAMME_WRITERS: dict[str, Callable[[AsyncSession, Any, datetime], Awaitable[FileCounts]]] = {
    "pairings": write_pairings,
    "goods": write_goods,
    "points_rules": write_points_rules,
}
