"""Checking roster files row by row (名单校验), before anything is written.

One `check_*` function per file of PRODUCT.md §9. Each reads a `Table`, refers to what the
database and the earlier files define (`Known`), returns the good records and every error
as `file:line: reason`, and registers the file's own codes or phones in `Known` for the
files after it. No database access here: `storage.roster.importing` builds `Known` and writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from storage.models import LEVEL_ORDER
from storage.roster.files import (
    RESIDENT_LEVELS,
    Checked,
    Known,
    ResidentRecord,
    RoleRecord,
    Row,
    RowError,
    Table,
    TeamInfo,
    TeamRecord,
    UnitInfo,
    UnitRecord,
    VolunteerRecord,
    check_role_level,
    delimited,
    parse_categories,
    parse_code,
    parse_codes,
    parse_invite,
    parse_level,
    parse_party,
    parse_phone,
    parse_role,
    parse_skills,
)

T = TypeVar("T")
Problems = list[tuple[int, str]]


def check_org_units(table: Table, known: Known) -> Checked[UnitRecord]:
    """Check org_units rows: fields, duplicate codes, parents and the level order."""
    problems: Problems = []
    first: dict[str, int] = {}

    def parse(row: Row) -> UnitRecord:
        code = _unique(parse_code(_required(row, "code"), "code"), row.line, first, "code")
        name = _required(row, "name", 200)
        level = parse_level(_required(row, "level"))
        parent = parse_code(row.get("parent_code"), "parent_code") if row.get("parent_code") else None
        return UnitRecord(row.line, code, name, level, parent)

    parsed = _each(table, problems, parse)
    in_file = {r.code: r for r in parsed}
    # Children already in the database that this file does not list keep their level and
    # parent, so a unit's new level must still sit above theirs.
    db_children: dict[str, list[str]] = {}
    for code, info in known.units.items():
        if info.parent_code and code not in first:
            db_children.setdefault(info.parent_code, []).append(code)

    def parents(rec: UnitRecord) -> UnitRecord:
        rank = LEVEL_ORDER.index
        if rec.parent_code:
            if rec.parent_code == rec.code:
                raise RowError("parent_code is the unit itself")
            if rec.parent_code in in_file:
                parent_level = in_file[rec.parent_code].level
            elif rec.parent_code in first:
                raise RowError(f"parent_code {rec.parent_code} is on line {first[rec.parent_code]}, which has errors")
            else:
                parent_level = known.unit(rec.parent_code, "parent_code").level
            # Strictly above: levels may be skipped, but a unit never hangs under its equal.
            if rank(parent_level) >= rank(rec.level):
                raise RowError(
                    f"parent {rec.parent_code} is a {parent_level}; a {rec.level} must sit under a"
                    f" higher level ({' > '.join(LEVEL_ORDER)})"
                )
        for child in db_children.get(rec.code, ()):
            if rank(known.units[child].level) <= rank(rec.level):
                raise RowError(
                    f"a {rec.level} cannot be above its existing child {child} ({known.units[child].level})"
                )
        return rec

    good = _each_record(table, problems, parsed, parents)
    errors = _finish(table, problems)
    items = {c: UnitInfo(r.level, r.parent_code, table.filename) for c, r in in_file.items()}
    items.update({c: UnitInfo("", None, table.filename) for c in first if c not in items})
    _register(known, table.filename, errors, known.units, items)
    return Checked(table.filename, good, errors)


def check_teams(table: Table, known: Known) -> Checked[TeamRecord]:
    """Check teams rows: fields, units, categories, invite codes and parent teams."""
    problems: Problems = []
    first: dict[str, int] = {}
    invites: dict[str, int] = {}

    def parse(row: Row) -> TeamRecord:
        code = _unique(parse_code(_required(row, "code"), "code"), row.line, first, "code")
        name = _required(row, "name", 200)
        org_code = parse_code(_required(row, "org_code"), "org_code")
        known.unit(org_code, "org_code")
        categories = parse_categories(row.get("categories"))
        if len(delimited(categories)) > 500:
            raise RowError("categories are longer than 500 characters")
        parent = parse_code(row.get("parent_code"), "parent_code") if row.get("parent_code") else None
        invite = parse_invite(row.get("invite_code"))
        if invite is not None:
            _unique(invite, row.line, invites, "invite_code")
            holder = known.invites.get(invite)
            if holder is not None and holder != code:
                raise RowError(f"invite_code {invite} is already used by team {holder}")
        return TeamRecord(row.line, code, name, org_code, categories, parent, invite)

    parsed = _each(table, problems, parse)
    in_file = {r.code: r for r in parsed}
    parent_of = {code: info.parent_code for code, info in known.teams.items()}
    parent_of.update({r.code: r.parent_code for r in parsed})

    def parents(rec: TeamRecord) -> TeamRecord:
        if rec.parent_code is None:
            return rec
        if rec.parent_code == rec.code:
            raise RowError("parent_code is the team itself")
        if rec.parent_code not in in_file:
            if rec.parent_code in first:
                raise RowError(f"parent_code {rec.parent_code} is on line {first[rec.parent_code]}, which has errors")
            known.team(rec.parent_code, "parent_code")
        seen: set[str] = set()
        up: str | None = rec.parent_code
        while up is not None and up not in seen:
            if up == rec.code:
                raise RowError(f"parent_code {rec.parent_code} makes a loop of parent teams back to {rec.code}")
            seen.add(up)
            up = parent_of.get(up)
        return rec

    good = _each_record(table, problems, parsed, parents)
    errors = _finish(table, problems)
    items = {c: TeamInfo(in_file[c].parent_code if c in in_file else None, table.filename) for c in first}
    _register(known, table.filename, errors, known.teams, items)
    return Checked(table.filename, good, errors)


def check_volunteers(table: Table, known: Known) -> Checked[VolunteerRecord]:
    """Check volunteers rows: name, phone, home unit, teams, skills, party membership."""
    problems: Problems = []
    phones: dict[str, int] = {}

    def parse(row: Row) -> VolunteerRecord:
        name = _required(row, "name", 100)
        phone = _unique(parse_phone(_required(row, "phone")), row.line, phones, "phone")
        org_code = parse_code(_required(row, "org_code"), "org_code")
        known.unit(org_code, "org_code")
        teams = parse_codes(row.get("team_codes"), "team_codes")
        for team in teams:
            known.team(team, "team_codes")
        skills = parse_skills(row.get("skills"))
        if len(delimited(skills)) > 500:
            raise RowError("skills are longer than 500 characters")
        party = parse_party(row.get("party_member"))
        return VolunteerRecord(row.line, name, phone, org_code, teams, skills, party)

    good = _each(table, problems, parse)
    errors = _finish(table, problems)
    _register(known, table.filename, errors, known.phones, dict.fromkeys(phones, table.filename))
    return Checked(table.filename, good, errors)


def check_residents(table: Table, known: Known) -> Checked[ResidentRecord]:
    """Check residents rows: name, optional phone, and a village (station or point)."""
    problems: Problems = []
    phones: dict[str, int] = {}
    unphoned: dict[str, int] = {}

    def parse(row: Row) -> ResidentRecord:
        name = _required(row, "name", 100)
        phone = parse_phone(row.get("phone")) if row.get("phone") else None
        org_code = parse_code(_required(row, "org_code"), "org_code")
        if phone is not None:
            _unique(phone, row.line, phones, "phone")
        else:
            # Without a phone, name and village are the only key: two such rows are one person.
            _unique(f"{name} at {org_code}", row.line, unphoned, "resident without phone")
        level = known.unit(org_code, "org_code").level
        if level not in RESIDENT_LEVELS:
            raise RowError(f"org_code {org_code} is a {level}; residents belong to a station or point (their village)")
        return ResidentRecord(row.line, name, phone, org_code)

    good = _each(table, problems, parse)
    errors = _finish(table, problems)
    _register(known, table.filename, errors, known.phones, dict.fromkeys(phones, table.filename))
    return Checked(table.filename, good, errors)


def check_roles(table: Table, known: Known) -> Checked[RoleRecord]:
    """Check roles rows: a known person, a valid role, and a scope that fits the role."""
    problems: Problems = []
    seen: dict[str, int] = {}

    def parse(row: Row) -> RoleRecord:
        phone = parse_phone(_required(row, "phone"))
        role = parse_role(_required(row, "role"))
        scope = parse_code(_required(row, "scope_code"), "scope_code")
        _unique(f"{phone} {role} {scope}", row.line, seen, "role grant")
        check_scope(known, role, scope)
        known.person(phone)
        return RoleRecord(row.line, phone, role, scope)

    good = _each(table, problems, parse)
    return Checked(table.filename, good, _finish(table, problems))


def check_scope(known: Known, role: str, scope: str) -> None:
    """Refuse a scope that does not exist or does not fit the role."""
    if role == "captain":
        if scope not in known.teams and scope in known.units:
            raise RowError(f"a captain is scoped to a team code; {scope} is an org unit")
        known.team(scope, "scope_code")
        return
    if scope not in known.units and scope in known.teams:
        raise RowError(f"role {role} is scoped to an org unit code; {scope} is a team")
    check_role_level(role, known.unit(scope, "scope_code").level)


# ---------------------------------------------------------------- helpers


def _required(row: Row, column: str, max_len: int | None = None) -> str:
    value = row.get(column)
    if not value:
        raise RowError(f"{column} is empty")
    if max_len is not None and len(value) > max_len:
        raise RowError(f"{column} is longer than {max_len} characters")
    return value


def _unique(key: str, line: int, first: dict[str, int], what: str) -> str:
    if key in first:
        raise RowError(f"duplicate {what} {key} (first on line {first[key]})")
    first[key] = line
    return key


def _each(table: Table, problems: Problems, parse: Callable[[Row], T]) -> list[T]:
    out: list[T] = []
    for row in table.rows:
        try:
            out.append(parse(row))
        except RowError as exc:
            problems.append((row.line, str(exc)))
    return out


def _each_record(table: Table, problems: Problems, records: list[T], check: Callable[[T], T]) -> list[T]:
    out: list[T] = []
    for rec in records:
        try:
            out.append(check(rec))
        except RowError as exc:
            problems.append((getattr(rec, "line"), str(exc)))
    return out


def _finish(table: Table, problems: Problems) -> list[str]:
    # Reading errors first, then row errors in line order (a row may fail two passes).
    return table.errors + [f"{table.filename}:{line}: {msg}" for line, msg in sorted(problems)]


def _register(known: Known, filename: str, errors: list[str], store: dict[str, Any], items: dict[str, Any]) -> None:
    # Nothing of a failed file is written, so its keys are remembered only where the database
    # has none: a later file's row then reads "… which has errors" rather than "no such …".
    if errors:
        known.failed.add(filename)
    for key, value in items.items():
        if not errors or key not in store:
            store[key] = value


CHECKERS: dict[str, Callable[[Table, Known], Checked[Any]]] = {
    "org_units": check_org_units,
    "teams": check_teams,
    "volunteers": check_volunteers,
    "residents": check_residents,
    "roles": check_roles,
}
