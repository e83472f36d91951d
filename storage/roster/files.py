"""Roster files (名单文件): reading the import spreadsheets and checking every row.

`xinfeng import DIR` (PRODUCT.md §9) takes the CSV (or XLSX) files the centers export from
their spreadsheets. This module turns them into typed records plus `file:line: reason`
errors and touches no database: what the database already holds comes in as a `Known`
registry, built by `storage.roster.importing`, which also does the writing.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Generic, TypeVar

from storage.models import LEVEL_ORDER, LEVEL_ZH

# The files in the order they are checked and written: each may refer to those before it.
FILES = ("org_units", "teams", "volunteers", "residents", "roles", "pairings", "goods", "points_rules")
OPTIONAL_FILES = frozenset({"residents", "roles", "pairings", "goods", "points_rules"})

# Columns that must be in the header, and columns that may be left out entirely.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "org_units": ("code", "name", "level", "parent_code"),
    "teams": ("code", "name", "org_code", "categories"),
    "volunteers": ("name", "phone", "org_code"),
    "residents": ("name", "phone", "org_code"),
    "roles": ("phone", "role", "scope_code"),
    "pairings": ("volunteer_phone", "household_name", "org_code"),
    "goods": ("org_code", "name", "points", "stock"),
    "points_rules": ("org_code", "points_per_hour"),
}
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "teams": ("parent_code", "invite_code"),
    "volunteers": ("team_codes", "skills", "party_member"),
    "pairings": ("household_phone",),
}

# Request categories (PRODUCT.md §9). A team's categories must come from here: a misspelt one
# would silently never receive a task.
CATEGORIES = (
    "理论宣讲", "农业技术", "卫生健康", "法律服务", "文化文艺", "助老助残",
    "助学支教", "心理辅导", "环境整治", "生活帮扶", "移风易俗", "其他",
)
ROLES = ("captain", "admin", "federation_admin", "first_secretary", "shopkeeper")
ROLE_ZH = {
    "captain": "队长",
    "admin": "管理员",
    "federation_admin": "志愿服务联合会管理员",
    "first_secretary": "驻村第一书记",
    "shopkeeper": "爱心超市店长",
}
# Org-unit levels each org-scoped role may be granted at (captains are scoped to a team).
ROLE_LEVELS: dict[str, tuple[str, ...]] = {
    "admin": tuple(LEVEL_ORDER),
    "federation_admin": tuple(LEVEL_ORDER),
    "first_secretary": ("station",),
    "shopkeeper": ("station", "point"),
}
# Residents live in a village or community: the unit their requests start from.
RESIDENT_LEVELS = ("station", "point")

_LEVEL_ALIASES = {**{lv: lv for lv in LEVEL_ORDER}, **{zh: lv for lv, zh in LEVEL_ZH.items()}}
_PARTY = {"1": True, "true": True, "yes": True, "是": True, "0": False, "false": False, "no": False,
          "否": False, "": False}
_PHONE = re.compile(r"1[3-9]\d{9}")
_PHONE_NOISE = re.compile(r"[\s\-–—()]")
_CODE = re.compile(r"[^\s|,]{1,64}")
_INVITE = re.compile(r"[A-Z0-9]{4,32}")
_SKILL_SEP = re.compile(r"[|、,，;；]")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)


class RowError(ValueError):
    """What is wrong with one row; the caller prefixes `file:line:`."""


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class Row:
    """One data row: its physical line (CSV) or row number (XLSX) and its cells by column."""

    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        """The cell's text, stripped; empty when the column is absent."""
        return self.values.get(column, "")


@dataclass
class Table:
    """The rows of one roster file, and any errors found while reading it."""

    kind: str
    filename: str
    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def find_file(directory: Path, kind: str) -> Path | None:
    """The CSV for `kind` in `directory`, else the XLSX of the same name, else None."""
    for suffix in (".csv", ".xlsx"):
        path = directory / f"{kind}{suffix}"
        if path.is_file():
            return path
    return None


def read_table(path: Path, kind: str) -> Table:
    """Read a roster file (CSV in UTF-8 with or without BOM, or XLSX) into rows."""
    table = Table(kind=kind, filename=path.name)
    try:
        records = list(_xlsx_records(path) if path.suffix == ".xlsx" else _csv_records(path))
    except RowError as exc:
        table.errors.append(f"{path.name}:{exc}")
        return table
    if not records or not any(records[0][1]):
        table.errors.append(f"{path.name}:1: no header row (expected {', '.join(REQUIRED_COLUMNS[kind])})")
        return table
    header = [_clean(c).lower() for c in records[0][1]]
    missing = [c for c in REQUIRED_COLUMNS[kind] if c not in header]
    if missing:
        table.errors.append(f"{path.name}:1: missing column(s): {', '.join(missing)}")
        return table
    known_cols = set(REQUIRED_COLUMNS[kind]) | set(OPTIONAL_COLUMNS.get(kind, ()))
    repeated = sorted({c for c in header if c in known_cols and header.count(c) > 1})
    if repeated:
        table.errors.append(f"{path.name}:1: repeated column(s): {', '.join(repeated)}")
        return table
    for line, cells in records[1:]:
        cells = [_clean(c) for c in cells]
        if not any(cells):
            continue  # blank lines between blocks are common in hand-kept sheets
        if len(cells) > len(header) and any(cells[len(header):]):
            table.errors.append(
                f"{path.name}:{line}: {len(cells)} values but the header has {len(header)} columns"
                " (quote a value that contains a comma)"
            )
            continue
        values = {col: (cells[i] if i < len(cells) else "") for i, col in enumerate(header) if col}
        table.rows.append(Row(line=line, values=values))
    return table


def _csv_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RowError(f"{line}: not UTF-8 text (save the sheet as \"CSV UTF-8\")") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    end = 0
    try:
        for cells in reader:
            # A quoted cell may span lines: report the line the record starts on.
            start, end = end + 1, reader.line_num
            yield start, cells
    except csv.Error as exc:
        raise RowError(f"{reader.line_num}: unreadable CSV ({exc})") from exc


def _xlsx_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    import openpyxl  # only XLSX imports pay for it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file; all mean "can't read"
        raise RowError(f"1: not a readable XLSX workbook ({exc.__class__.__name__})") from exc
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell_text(v) for v in values]
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    # Spreadsheets store phone numbers as numbers, often as floats; codes must read as typed.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def _clean(text: str) -> str:
    return text.translate(_INVISIBLE).strip()


# ---------------------------------------------------------------- cell parsers


def parse_phone(raw: str) -> str:
    """A mainland mobile number, spaces/dashes and a +86 prefix removed."""
    digits = _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", raw))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    elif digits.startswith("+86"):
        digits = digits[3:]
    if not _PHONE.fullmatch(digits):
        raise RowError(f"phone {raw!r} is not a mainland mobile number (11 digits starting 13-19)")
    return digits


def parse_party(raw: str) -> bool:
    """Party membership from 1/0, true/false, yes/no, 是/否 or blank (no)."""
    key = unicodedata.normalize("NFKC", raw).strip().lower()
    if key not in _PARTY:
        raise RowError(f"party_member {raw!r} must be 1/0, true/false, yes/no, 是/否 or blank")
    return _PARTY[key]


def parse_level(raw: str) -> str:
    """An org-unit level, in English or as 省/市/中心/所/站/点."""
    level = _LEVEL_ALIASES.get(unicodedata.normalize("NFKC", raw).strip().lower())
    if level is None:
        raise RowError(f"level {raw!r} must be one of {', '.join(LEVEL_ORDER)}")
    return level


def parse_role(raw: str) -> str:
    """A role name from ROLES."""
    role = raw.strip().lower()
    if role not in ROLES:
        raise RowError(f"role {raw!r} must be one of {', '.join(ROLES)}")
    return role


def parse_code(raw: str, column: str) -> str:
    """A unit or team code: up to 64 characters, no spaces, commas or `|`."""
    code = unicodedata.normalize("NFKC", raw).strip()
    if not _CODE.fullmatch(code):
        raise RowError(f"{column} {raw!r} is not a valid code (1-64 characters, no spaces, ',' or '|')")
    return code


def parse_invite(raw: str) -> str | None:
    """An invite code (4-32 letters/digits, stored upper-case), or None when blank."""
    code = unicodedata.normalize("NFKC", raw).strip().upper()
    if not code:
        return None
    if not _INVITE.fullmatch(code):
        raise RowError(f"invite_code {raw!r} must be 4-32 letters or digits")
    return code


def parse_categories(raw: str) -> tuple[str, ...]:
    """`|`-separated categories, each one of CATEGORIES."""
    cats = _split(unicodedata.normalize("NFKC", raw), "|")
    unknown = [c for c in cats if c not in CATEGORIES]
    if unknown:
        raise RowError(f"unknown categor{'y' if len(unknown) == 1 else 'ies'} {'|'.join(unknown)}"
                       f" (known: {'|'.join(CATEGORIES)})")
    return cats


def parse_codes(raw: str, column: str) -> tuple[str, ...]:
    """`|`-separated codes."""
    return tuple(parse_code(c, column) for c in _split(unicodedata.normalize("NFKC", raw), "|"))


def parse_skills(raw: str) -> tuple[str, ...]:
    """Free-text skills separated by `|`, `、`, commas or semicolons."""
    return _split(raw, _SKILL_SEP)


def delimited(items: Iterable[str]) -> str:
    """Items stored as "|a|b|" (delimited on both sides, so `LIKE '%|a|%'` is exact), or ""."""
    items = list(items)
    return f"|{'|'.join(items)}|" if items else ""


def check_role_level(role: str, level: str) -> None:
    """Refuse an org-scoped role at a level it does not belong to."""
    allowed = ROLE_LEVELS[role]
    if level not in allowed:
        raise RowError(f"role {role} must be scoped to a {'/'.join(allowed)}, not a {level}")


def _split(raw: str, sep: str | re.Pattern[str]) -> tuple[str, ...]:
    parts = sep.split(raw) if isinstance(sep, re.Pattern) else raw.split(sep)
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


# ---------------------------------------------------------------- records and what is known


@dataclass(frozen=True)
class UnitRecord:
    """An org_units row."""

    line: int
    code: str
    name: str
    level: str
    parent_code: str | None


@dataclass(frozen=True)
class TeamRecord:
    """A teams row."""

    line: int
    code: str
    name: str
    org_code: str
    categories: tuple[str, ...]
    parent_code: str | None
    invite_code: str | None


@dataclass(frozen=True)
class VolunteerRecord:
    """A volunteers row (admins, secretaries and shopkeepers are listed here too)."""

    line: int
    name: str
    phone: str
    org_code: str
    team_codes: tuple[str, ...]
    skills: tuple[str, ...]
    party_member: bool


@dataclass(frozen=True)
class ResidentRecord:
    """A residents row; the phone may be blank."""

    line: int
    name: str
    phone: str | None
    org_code: str


@dataclass(frozen=True)
class RoleRecord:
    """A roles row."""

    line: int
    phone: str
    role: str
    scope_code: str


@dataclass(frozen=True)
class UnitInfo:
    """An org unit as known before writing; `origin` is "db" or the file that defines it."""

    level: str
    parent_code: str | None
    origin: str


@dataclass(frozen=True)
class TeamInfo:
    """A team as known before writing."""

    parent_code: str | None
    origin: str


V = TypeVar("V")


@dataclass
class Known:
    """Codes and phones that rows may refer to: the database's, then each checked file's."""

    units: dict[str, UnitInfo] = field(default_factory=dict)
    teams: dict[str, TeamInfo] = field(default_factory=dict)
    invites: dict[str, str] = field(default_factory=dict)  # invite code -> team code, from the DB
    phones: dict[str, str] = field(default_factory=dict)  # phone -> origin
    failed: set[str] = field(default_factory=set)  # files with errors: nothing of theirs is written

    def unit(self, code: str, column: str) -> UnitInfo:
        """The unit a row refers to, or a RowError saying why it cannot be used."""
        return self._resolve(self.units, code, column, "org unit", "the org_units file")

    def team(self, code: str, column: str) -> TeamInfo:
        """The team a row refers to, or a RowError saying why it cannot be used."""
        return self._resolve(self.teams, code, column, "team", "the teams file")

    def person(self, phone: str) -> None:
        """Refuse a phone no one has."""
        self._resolve(self.phones, phone, "phone", "person", "the volunteers or residents file")

    def _resolve(self, table: dict[str, V], key: str, column: str, what: str, where: str) -> V:
        found = table.get(key)
        origin = getattr(found, "origin", found)  # phones map straight to their origin
        if found is None:
            raise RowError(f"{column} {key}: no such {what} (not in {where} nor in the database)")
        if origin in self.failed:
            raise RowError(f"{column} {key} is in {origin}, which has errors")
        return found


T = TypeVar("T")


@dataclass
class Checked(Generic[T]):
    """A checked file: its records, and its errors (any error means none of it is written)."""

    filename: str
    records: list[T]
    errors: list[str]
