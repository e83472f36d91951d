"""Roster files for the service programmes: pairings.csv, goods.csv and points_rules.csv.

All three are optional and follow the rules of the network files (`storage.roster.importing`):
every row is checked first and reported as "文件 第N行：原因"; a file with any error is not
written at all; re-importing updates rows matched by their natural key and never duplicates.

- `pairings.csv` — `志愿者手机号,帮扶对象,帮扶对象电话,单位编码` (结对帮扶): keyed
  by (volunteer, village, household name); the household phone may be blank. Pairings missing
  from a later file are kept, like team memberships.
- `goods.csv` — `单位编码,商品名称,所需积分,库存` (爱心超市): keyed by (shop, name); the stock in the
  file is a stocktake and replaces the shelf count.
- `points_rules.csv` — `单位编码,每小时积分` (积分规则): one rule per unit, inherited by
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

from storage.models import LEVEL_ZH, OrgUnit
from storage.models.pairings import Pairing
from storage.models.points import Goods, PointsRule
from storage.roster.checks import Cells, Problems, each, finish, unique
from storage.roster.files import RESIDENT_LEVELS, ROLE_LEVELS, RowError, parse_phone
from storage.roster.lookups import FileCounts, by_code, chunks, people_by_phone
from storage.roster.progress import NO_PROGRESS, Progress
from storage.roster.records import Checked, Known
from storage.roster.sheets import Sheet

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


def parse_count(raw: str, label: str, low: int, high: int) -> int:
    """A whole number in [low, high] ("20", "20.0" from a spreadsheet)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError(f"{label}“{raw}”不是数字") from None
    if not value.is_finite() or value != value.to_integral_value() or not low <= value <= high:
        raise RowError(f"{label}“{raw}”应是 {low} 到 {high} 的整数")
    return int(value)


def parse_rate(raw: str) -> Decimal:
    """Points per hour: 0 to 1000, at most two decimals."""
    text = unicodedata.normalize("NFKC", raw).strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError(f"每小时积分“{raw}”不是数字") from None
    if not value.is_finite() or not 0 <= value <= MAX_RATE or value != value.quantize(Decimal("0.01")):
        raise RowError(f"每小时积分“{raw}”应在 0 到 {MAX_RATE} 之间，最多两位小数")
    return value


def _unit_at(c: Cells, known: Known, levels: tuple[str, ...], what: str) -> str | None:
    found = c.unit(known, "org_code", "单位编码")
    if found is None:
        return None
    code, info = found
    if info.level not in levels:
        where = "/".join(LEVEL_ZH[lv] for lv in levels)
        c.problems.append(f"单位“{code}”是{LEVEL_ZH[info.level]}；{what}要填{where}")
        return None
    return code


# ---------------------------------------------------------------- checks (no database)


def check_pairings(sheet: Sheet, known: Known, progress: Progress = NO_PROGRESS) -> Checked[PairingRecord]:
    """Check pairings rows: a known volunteer, a household name, an optional phone, a village."""
    problems: Problems = {}
    seen: dict[str, int] = {}

    def parse(c: Cells) -> PairingRecord | None:
        raw = c.required("volunteer_phone", "志愿者手机号")
        phone = None if raw is None else c.take(parse_phone, raw)
        household = c.required("household_name", "帮扶对象", 100)
        household_phone = c.take(parse_phone, c.row.get("household_phone")) if c.row.get("household_phone") else None
        org_code = _unit_at(c, known, RESIDENT_LEVELS, "结对户")
        if phone is not None and household is not None and org_code is not None:
            c.take(unique, f"{phone} {household} {org_code}", c.row.line, seen, "同一结对")
        if phone is not None:
            c.take(known.person, phone)
        if c.problems or phone is None or household is None or org_code is None:
            return None
        return PairingRecord(c.row.line, phone, household, household_phone, org_code)

    good = each(sheet, problems, parse, progress)
    errors, bad = finish(sheet, problems)
    return Checked(sheet.name, good, errors, bad, total=len(good))


def check_goods(sheet: Sheet, known: Known, progress: Progress = NO_PROGRESS) -> Checked[GoodsRecord]:
    """Check goods rows: a shop (station or point), a name, a positive price and a stock."""
    problems: Problems = {}
    seen: dict[str, int] = {}

    def parse(c: Cells) -> GoodsRecord | None:
        org_code = _unit_at(c, known, ROLE_LEVELS["shopkeeper"], "爱心超市商品")
        name = c.required("name", "商品名称", 100)
        if name is not None and org_code is not None:
            c.take(unique, f"{name}@{org_code}", c.row.line, seen, f"商品“{name}”")
        raw_points, raw_stock = c.required("points", "所需积分"), c.required("stock", "库存")
        points = None if raw_points is None else c.take(parse_count, raw_points, "所需积分", 1, MAX_PRICE)
        stock = None if raw_stock is None else c.take(parse_count, raw_stock, "库存", 0, MAX_STOCK)
        if c.problems or org_code is None or name is None or points is None or stock is None:
            return None
        return GoodsRecord(c.row.line, org_code, name, points, stock)

    good = each(sheet, problems, parse, progress)
    errors, bad = finish(sheet, problems)
    return Checked(sheet.name, good, errors, bad, total=len(good))


def check_points_rules(sheet: Sheet, known: Known, progress: Progress = NO_PROGRESS) -> Checked[RuleRecord]:
    """Check points_rules rows: a known unit, once, and a rate from 0 to 1000."""
    problems: Problems = {}
    seen: dict[str, int] = {}

    def parse(c: Cells) -> RuleRecord | None:
        found = c.unit(known, "org_code", "单位编码")
        if found is not None:
            c.take(unique, found[0], c.row.line, seen, f"单位“{found[0]}”")
        raw = c.required("points_per_hour", "每小时积分")
        rate = None if raw is None else c.take(parse_rate, raw)
        if c.problems or found is None or rate is None:
            return None
        return RuleRecord(c.row.line, found[0], rate)

    good = each(sheet, problems, parse, progress)
    errors, bad = finish(sheet, problems)
    return Checked(sheet.name, good, errors, bad, total=len(good))


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


PROGRAMME_CHECKERS: dict[str, Callable[[Sheet, Known, Progress], Checked[Any]]] = {
    "pairings": check_pairings,
    "goods": check_goods,
    "points_rules": check_points_rules,
}
PROGRAMME_WRITERS: dict[str, Callable[[AsyncSession, Any, datetime], Awaitable[FileCounts]]] = {
    "pairings": write_pairings,
    "goods": write_goods,
    "points_rules": write_points_rules,
}
