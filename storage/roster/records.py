"""The typed records of roster rows, and `Known`: the codes, names and phones rows may refer to.

`Known` holds the database's units, teams and (referred-to) phones, loaded by
`storage.roster.importing`, and each checked file's, registered by `storage.roster.checks`:
a row refers to a unit or team by code or by a name only one of them has. No database here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from storage.roster.files import RowError


@dataclass(frozen=True)
class UnitRecord:
    """An org_units row; `duty_phone`/`division_code` are None when blank (or the column absent)."""

    line: int
    code: str
    name: str
    level: str
    parent_code: str | None
    duty_phone: str | None = None
    division_code: str | None = None


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
AMBIGUOUS = "\0"  # a name several units (or teams) share: only their codes can tell them apart


@dataclass
class Known:
    """Codes, names and phones that rows may refer to: the database's, then each checked file's."""

    units: dict[str, UnitInfo] = field(default_factory=dict)
    teams: dict[str, TeamInfo] = field(default_factory=dict)
    unit_names: dict[str, str] = field(default_factory=dict)  # name -> code (or AMBIGUOUS)
    team_names: dict[str, str] = field(default_factory=dict)
    invites: dict[str, str] = field(default_factory=dict)  # invite code -> team code, from the DB
    phones: dict[str, str] = field(default_factory=dict)  # phone -> origin
    wanted: set[str] = field(default_factory=set)  # phones later files refer to: all a big file registers
    failed: set[str] = field(default_factory=set)  # files with errors: nothing of theirs is written

    def unit(self, ref: str, column: str) -> tuple[str, UnitInfo]:
        """The unit a row refers to by code (or unique name): (code, info), or a RowError."""
        code = self._by_name(self.units, self.unit_names, ref, column, "单位")
        return code, self._resolve(self.units, code, column, "单位", "组织名单")

    def team(self, ref: str, column: str) -> tuple[str, TeamInfo]:
        """The team a row refers to by code (or unique name): (code, info), or a RowError."""
        code = self._by_name(self.teams, self.team_names, ref, column, "队伍")
        return code, self._resolve(self.teams, code, column, "队伍", "队伍名单")

    def person(self, phone: str) -> None:
        """Refuse a phone no one has."""
        self._resolve(self.phones, phone, "手机号", "人", "志愿者名单、居民名单")

    def name_unit(self, name: str, code: str) -> None:
        """Remember a unit's name, so rows may name it instead of giving its code."""
        _add_name(self.unit_names, name, code)

    def name_team(self, name: str, code: str) -> None:
        """Remember a team's name, so rows may name it instead of giving its code."""
        _add_name(self.team_names, name, code)

    @staticmethod
    def _by_name(table: dict[str, V], names: dict[str, str], ref: str, column: str, what: str) -> str:
        if ref in table or ref not in names:
            return ref
        if names[ref] == AMBIGUOUS:
            raise RowError(f"{column}“{ref}”：有不止一个{what}叫这个名字，请填编码")
        return names[ref]

    def _resolve(self, table: dict[str, V], key: str, column: str, what: str, where: str) -> V:
        found = table.get(key)
        origin = getattr(found, "origin", found)  # phones map straight to their origin
        if found is None:
            raise RowError(f"{column}“{key}”：没有这个{what}（{where}和数据库里都没有）")
        if origin in self.failed:
            raise RowError(f"{column}“{key}”在 {origin} 里，而那个文件有错误")
        return found


def _add_name(names: dict[str, str], name: str, code: str) -> None:
    if names.get(name, code) != code:
        names[name] = AMBIGUOUS
    else:
        names[name] = code


T = TypeVar("T")


@dataclass
class Checked(Generic[T]):
    """A checked file: its records (or how to read them again), its errors, its error-row count.

    Any error means none of the file is written. A big file keeps no records: `again` reads
    and parses it a second time, for writing.
    """

    filename: str
    records: list[T]
    errors: list[str]
    bad_rows: int = 0
    again: Callable[[], Iterator[T]] | None = None
    total: int = 0  # rows to write

    def stream(self) -> Iterable[T]:
        """The records, from memory or read again."""
        return self.again() if self.again is not None else self.records
