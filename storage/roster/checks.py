"""Checking roster sheets row by row (名单校验), before anything is written.

One `check_*` function per file of docs/import.md. Each reads a `Sheet`, refers to what the
database and the earlier files define (`Known`), returns the good records and every error —
all of a row's problems on one line, "志愿者.csv 第12行：…；…", in line order — and registers the
file's own codes, names or phones in `Known` for the files after it. Here: the shared row
readers and the network's sheets (org units, teams); people's sheets are in
`storage.roster.people_checks`, the programmes' in `storage.roster.programmes`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from storage.models import LEVEL_ORDER, LEVEL_ZH
from storage.roster.files import (
    RowError,
    delimited,
    parse_categories,
    parse_code,
    parse_division,
    parse_duty_phone,
    parse_invite,
    parse_level,
)
from storage.roster.progress import NO_PROGRESS, Progress
from storage.roster.reading import Row
from storage.roster.records import (
    Checked,
    Known,
    TeamInfo,
    TeamRecord,
    UnitInfo,
    UnitRecord,
)
from storage.roster.sheets import Sheet

T = TypeVar("T")
Problems = dict[int, list[str]]  # line -> what is wrong with it
MAX_ROWS_LISTED = 200
_LINE_BITS = 27  # a line number in the low bits of a packed (phone, line): up to 134 million lines
_LINE_MASK = (1 << _LINE_BITS) - 1  # a sheet with the wrong columns can fail on every one of a million rows


class Cells:
    """Read one row's cells, collecting every problem instead of stopping at the first."""

    def __init__(self, row: Row) -> None:
        self.row = row
        self.problems: list[str] = [row.error] if row.error else []

    def take(self, parse: Callable[..., T], *args: Any) -> T | None:
        """The parsed value, or None with the problem noted."""
        try:
            return parse(*args)
        except RowError as exc:
            self.problems.append(str(exc))
            return None

    def required(self, column: str, label: str, max_len: int | None = None) -> str | None:
        """A cell that must not be empty (nor longer than `max_len`)."""
        return self.take(required, self.row, column, label, max_len)

    def code(self, column: str, label: str) -> str | None:
        """A code cell that must not be empty."""
        raw = self.required(column, label)
        return None if raw is None else self.take(parse_code, raw, label)

    def unit(self, known: Known, column: str, label: str) -> tuple[str, UnitInfo] | None:
        """The unit a cell names (by code or unique name), which must be given."""
        raw = self.code(column, label)
        return None if raw is None else self.take(known.unit, raw, label)


def required(row: Row, column: str, label: str, max_len: int | None = None) -> str:
    """A cell that must not be empty (nor longer than `max_len`), or a RowError."""
    value = row.get(column)
    if not value:
        raise RowError(f"{label}是空的")
    if max_len is not None and len(value) > max_len:
        raise RowError(f"{label}超过 {max_len} 个字")
    return value


def unique(key: str, line: int, first: dict[str, int], what: str) -> str:
    """Refuse a key seen on an earlier line."""
    if key in first:
        raise RowError(f"{what}与第{first[key]}行重复")
    first[key] = line
    return key


def rows_of(sheet: Sheet, progress: Progress) -> Iterator[Row]:
    """The sheet's data rows, telling `progress` how far the reading got."""
    progress.start(f"检查 {sheet.name}", sheet.size() if progress.enabled else None)
    for count, (row, position) in enumerate(sheet.rows(), start=1):
        if count % 1000 == 0:
            progress.update(position)
        yield row
    progress.finish()


def each(sheet: Sheet, problems: Problems, parse: Callable[[Cells], T | None],
         progress: Progress = NO_PROGRESS) -> list[T]:
    """Parse every row; a row with any problem gives no record."""
    out: list[T] = []
    for row in rows_of(sheet, progress):
        cells = Cells(row)
        record = parse(cells)
        if cells.problems:
            problems.setdefault(row.line, []).extend(cells.problems)
        elif record is not None:
            out.append(record)
    return out


def each_record(problems: Problems, records: list[T], check: Callable[[T], None]) -> list[T]:
    """Run a check over parsed records; a record that fails it is dropped, its line noted."""
    out: list[T] = []
    for rec in records:
        try:
            check(rec)
            out.append(rec)
        except RowError as exc:
            problems.setdefault(getattr(rec, "line"), []).append(str(exc))
    return out


def finish(sheet: Sheet, problems: Problems) -> tuple[list[str], int]:
    """The sheet's errors, a row's problems on one line, in line order (the first rows listed)."""
    lines = sorted(problems)
    errors = sheet.errors + [f"{sheet.name} 第{line}行：{'；'.join(dict.fromkeys(problems[line]))}"
                             for line in lines[:MAX_ROWS_LISTED]]
    if len(lines) > MAX_ROWS_LISTED:
        errors.append(f"{sheet.name}：还有 {len(lines) - MAX_ROWS_LISTED} 行有错误，没有一一列出")
    return errors, len(lines)


def register(known: Known, filename: str, errors: list[str], store: dict[str, Any], items: dict[str, Any]) -> None:
    """Make a file's keys known to the files after it."""
    # Nothing of a failed file is written, so its keys are remembered only where the database
    # has none: a later file's row then reads "… which has errors" rather than "no such …".
    if errors:
        known.failed.add(filename)
    for key, value in items.items():
        if not errors or key not in store:
            store[key] = value


# ---------------------------------------------------------------- org units and teams


def check_org_units(sheet: Sheet, known: Known, progress: Progress = NO_PROGRESS) -> Checked[UnitRecord]:
    """Check org_units rows: fields, duplicate codes, parents and the level order."""
    problems: Problems = {}
    first: dict[str, int] = {}

    def parse(c: Cells) -> UnitRecord | None:
        code = c.code("code", "单位编码")
        if code is not None:
            c.take(unique, code, c.row.line, first, f"单位编码“{code}”")
        name = c.required("name", "单位名称", 200)
        level = c.take(parse_level, c.row.get("level")) if c.row.get("level") else c.required("level", "层级")
        parent = c.take(parse_code, c.row.get("parent_code"), "上级编码") if c.row.get("parent_code") else None
        duty = c.take(parse_duty_phone, c.row.get("duty_phone"))
        division = c.take(parse_division, c.row.get("division_code"))
        if c.problems or code is None or name is None or level is None:
            return None
        return UnitRecord(c.row.line, code, name, level, parent, duty, division)

    parsed = each(sheet, problems, parse, progress)
    in_file = {r.code: r for r in parsed}
    # Children already in the database that this file does not list keep their level and
    # parent, so a unit's new level must still sit above theirs.
    db_children: dict[str, list[str]] = {}
    for code, info in known.units.items():
        if info.parent_code and code not in first:
            db_children.setdefault(info.parent_code, []).append(code)
    rank = LEVEL_ORDER.index

    def parents(rec: UnitRecord) -> None:
        if rec.parent_code:
            if rec.parent_code == rec.code:
                raise RowError("上级编码就是本单位自己")
            if rec.parent_code in in_file:
                parent_level = in_file[rec.parent_code].level
            elif rec.parent_code in first:
                raise RowError(f"上级编码“{rec.parent_code}”在第{first[rec.parent_code]}行，而那一行有错误")
            else:
                parent_level = known.unit(rec.parent_code, "上级编码")[1].level
            # Strictly above: levels may be skipped, but a unit never hangs under its equal.
            if rank(parent_level) >= rank(rec.level):
                raise RowError(f"上级“{rec.parent_code}”是{LEVEL_ZH[parent_level]}，{LEVEL_ZH[rec.level]}"
                               f"只能挂在更高的层级下（{'＞'.join(LEVEL_ZH[lv] for lv in LEVEL_ORDER)}）")
        for child in db_children.get(rec.code, ()):
            if rank(known.units[child].level) <= rank(rec.level):
                raise RowError(f"改成{LEVEL_ZH[rec.level]}后会不高于已有的下级“{child}”"
                               f"（{LEVEL_ZH[known.units[child].level]}）")

    good = each_record(problems, parsed, parents)
    errors, bad = finish(sheet, problems)
    items = {c: UnitInfo(r.level, r.parent_code, sheet.name) for c, r in in_file.items()}
    items.update({c: UnitInfo("", None, sheet.name) for c in first if c not in items})
    register(known, sheet.name, errors, known.units, items)
    for rec in parsed:
        known.name_unit(rec.name, rec.code)
    return Checked(sheet.name, good, errors, bad, total=len(good))


def check_teams(sheet: Sheet, known: Known, progress: Progress = NO_PROGRESS) -> Checked[TeamRecord]:
    """Check teams rows: fields, units, categories, invite codes and parent teams."""
    problems: Problems = {}
    first: dict[str, int] = {}
    invites: dict[str, int] = {}

    def parse(c: Cells) -> TeamRecord | None:
        code = c.code("code", "队伍编码")
        if code is not None:
            c.take(unique, code, c.row.line, first, f"队伍编码“{code}”")
        name = c.required("name", "队伍名称", 200)
        org = c.unit(known, "org_code", "所属单位")
        categories = c.take(parse_categories, c.row.get("categories"))
        if categories is not None and len(delimited(categories)) > 500:
            c.problems.append("服务类别超过 500 个字")
        parent = c.take(parse_code, c.row.get("parent_code"), "上级队伍编码") if c.row.get("parent_code") else None
        invite = c.take(parse_invite, c.row.get("invite_code"))
        if invite is not None:
            c.take(unique, invite, c.row.line, invites, f"邀请码“{invite}”")
            holder = known.invites.get(invite)
            if holder is not None and holder != code:
                c.problems.append(f"邀请码“{invite}”已被队伍“{holder}”使用")
        if c.problems or code is None or name is None or not isinstance(org, tuple) or categories is None:
            return None
        return TeamRecord(c.row.line, code, name, org[0], categories, parent, invite)

    parsed = each(sheet, problems, parse, progress)
    in_file = {r.code: r for r in parsed}
    parent_of = {code: info.parent_code for code, info in known.teams.items()}
    parent_of.update({r.code: r.parent_code for r in parsed})

    def parents(rec: TeamRecord) -> None:
        if rec.parent_code is None:
            return
        if rec.parent_code == rec.code:
            raise RowError("上级队伍就是本队自己")
        if rec.parent_code not in in_file:
            if rec.parent_code in first:
                raise RowError(f"上级队伍“{rec.parent_code}”在第{first[rec.parent_code]}行，而那一行有错误")
            known.team(rec.parent_code, "上级队伍编码")
        seen: set[str] = set()
        up: str | None = rec.parent_code
        while up is not None and up not in seen:
            if up == rec.code:
                raise RowError(f"上级队伍“{rec.parent_code}”会让上下级队伍绕回“{rec.code}”自己")
            seen.add(up)
            up = parent_of.get(up)

    good = each_record(problems, parsed, parents)
    errors, bad = finish(sheet, problems)
    items = {c: TeamInfo(in_file[c].parent_code if c in in_file else None, sheet.name) for c in first}
    register(known, sheet.name, errors, known.teams, items)
    for rec in parsed:
        known.name_team(rec.name, rec.code)
    return Checked(sheet.name, good, errors, bad, total=len(good))


NETWORK_CHECKERS: dict[str, Callable[[Sheet, Known, Progress], Checked[Any]]] = {
    "org_units": check_org_units,
    "teams": check_teams,
}
