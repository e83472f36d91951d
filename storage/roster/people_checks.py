"""Checking the people's sheets: volunteers (streamed), residents and roles.

Same rules as `storage.roster.checks`. The volunteers sheet may hold a province (1.2 million
rows): it keeps no records — they are parsed again for writing — only each good row's phone
and line packed in 8 bytes, sorted afterwards to find the phones given twice.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from typing import Any

from storage.models import LEVEL_ZH
from storage.roster.checks import (
    NETWORK_CHECKERS,
    Cells,
    Problems,
    each,
    finish,
    register,
    rows_of,
    unique,
)
from storage.roster.files import (
    RESIDENT_LEVELS,
    ROLE_ZH,
    RowError,
    check_role_level,
    delimited,
    parse_codes,
    parse_party,
    parse_phone,
    parse_role,
    parse_skills,
)
from storage.roster.progress import NO_PROGRESS, Progress
from storage.roster.records import (
    Checked,
    Known,
    ResidentRecord,
    RoleRecord,
    VolunteerRecord,
)
from storage.roster.sheets import Sheet

_LINE_BITS = 27  # a line number in the low bits of a packed (phone, line): up to 134 million lines
_LINE_MASK = (1 << _LINE_BITS) - 1


def volunteer(c: Cells, known: Known) -> VolunteerRecord | None:
    """A volunteers row as a record (None, problems noted, when a cell is wrong)."""
    name = c.required("name", "姓名", 100)
    phone = c.take(parse_phone, c.row.get("phone")) if c.row.get("phone") else c.required("phone", "手机号")
    org = c.unit(known, "org_code", "所属单位")
    teams = []
    for ref in c.take(parse_codes, c.row.get("team_codes"), "队伍编码") or ():
        team = c.take(known.team, ref, "队伍")
        if team is not None:
            teams.append(team[0])
    skills = c.take(parse_skills, c.row.get("skills")) or ()
    if len(delimited(skills)) > 500:
        c.problems.append("技能超过 500 个字")
    party = c.take(parse_party, c.row.get("party_member"))
    if c.problems or name is None or phone is None or not isinstance(org, tuple) or party is None:
        return None
    return VolunteerRecord(c.row.line, name, phone, org[0], tuple(dict.fromkeys(teams)), skills, party)


def check_volunteers(sheet: Sheet, known: Known, progress: Progress = NO_PROGRESS) -> Checked[VolunteerRecord]:
    """Check volunteers rows, streaming: name, phone (once in the file), unit, teams, skills, party."""
    problems: Problems = {}
    # Each good row's phone packed with its line in 8 bytes; sorted, a phone's rows sit side by side.
    packed = array("q")
    wanted_bad: dict[str, str] = {}
    total = 0
    for row in rows_of(sheet, progress):
        c = Cells(row)
        rec = volunteer(c, known)
        if c.problems:
            problems.setdefault(row.line, []).extend(c.problems)
            phone = _quiet_phone(row.get("phone"))
            if phone in known.wanted:  # so a later file's row reads "… which has errors"
                wanted_bad[phone] = sheet.name
        if rec is not None:
            packed.append(int(rec.phone) << _LINE_BITS | row.line)
            total += 1
    packed = array("q", sorted(packed))
    mine: dict[str, str] = dict(wanted_bad)
    wanted = {int(p) for p in known.wanted}
    run_phone, run_line = -1, 0
    for key in packed:
        phone, line = key >> _LINE_BITS, key & _LINE_MASK
        if phone == run_phone:
            problems.setdefault(line, []).append(f"手机号“{phone}”与第{run_line}行重复")
            total -= 1
            continue
        run_phone, run_line = phone, line
        if phone in wanted:
            mine[str(phone)] = sheet.name
    errors, bad = finish(sheet, problems)
    register(known, sheet.name, errors, known.phones, mine)

    def again() -> Iterator[VolunteerRecord]:
        for row, _ in sheet.rows():
            rec = volunteer(Cells(row), known)
            if rec is not None:
                yield rec

    return Checked(sheet.name, [], errors, bad, again=again, total=total)


def _quiet_phone(raw: str) -> str | None:
    try:
        return parse_phone(raw)
    except RowError:
        return None


def check_residents(sheet: Sheet, known: Known, progress: Progress = NO_PROGRESS) -> Checked[ResidentRecord]:
    """Check residents rows: name, optional phone, and a village (station or point)."""
    problems: Problems = {}
    phones: dict[str, int] = {}
    unphoned: dict[str, int] = {}

    def parse(c: Cells) -> ResidentRecord | None:
        name = c.required("name", "姓名", 100)
        phone = c.take(parse_phone, c.row.get("phone")) if c.row.get("phone") else None
        org = c.unit(known, "org_code", "所属村")
        if phone is not None:
            c.take(unique, phone, c.row.line, phones, f"手机号“{phone}”")
        elif name is not None and isinstance(org, tuple):
            # Without a phone, name and village are the only key: two such rows are one person.
            c.take(unique, f"{name}@{org[0]}", c.row.line, unphoned, f"没有手机号的居民“{name}”（{org[0]}）")
        if isinstance(org, tuple) and org[1].level not in RESIDENT_LEVELS:
            c.problems.append(f"所属村“{org[0]}”是{LEVEL_ZH[org[1].level]}；居民要填所在的村（社区）站点或点")
        if c.problems or name is None or not isinstance(org, tuple):
            return None
        return ResidentRecord(c.row.line, name, phone, org[0])

    good = each(sheet, problems, parse, progress)
    errors, bad = finish(sheet, problems)
    register(known, sheet.name, errors, known.phones, dict.fromkeys(phones, sheet.name))
    return Checked(sheet.name, good, errors, bad, total=len(good))


def check_roles(sheet: Sheet, known: Known, progress: Progress = NO_PROGRESS) -> Checked[RoleRecord]:
    """Check roles rows: a known person, a valid role, and a scope that fits the role."""
    problems: Problems = {}
    seen: dict[str, int] = {}

    def parse(c: Cells) -> RoleRecord | None:
        phone = c.take(parse_phone, c.row.get("phone")) if c.row.get("phone") else c.required("phone", "手机号")
        role = c.take(parse_role, c.row.get("role")) if c.row.get("role") else c.required("role", "角色")
        scope = c.code("scope_code", "范围编码")
        if phone is None or role is None or scope is None:
            return None
        c.take(unique, f"{phone} {role} {scope}", c.row.line, seen, "同一人同一角色同一范围")
        scope = c.take(check_scope, known, role, scope)
        c.take(known.person, phone)
        return None if c.problems or scope is None else RoleRecord(c.row.line, phone, role, scope)

    good = each(sheet, problems, parse, progress)
    errors, bad = finish(sheet, problems)
    return Checked(sheet.name, good, errors, bad, total=len(good))


def check_scope(known: Known, role: str, scope: str) -> str:
    """The scope's code, or a RowError when it does not exist or does not fit the role."""
    if role == "captain":
        if scope not in known.teams and scope not in known.team_names and scope in known.units:
            raise RowError(f"队长的范围要填队伍编码，“{scope}”是单位")
        return known.team(scope, "范围编码")[0]
    if scope not in known.units and scope not in known.unit_names and scope in known.teams:
        raise RowError(f"{ROLE_ZH[role]}的范围要填单位编码，“{scope}”是队伍")
    code, info = known.unit(scope, "范围编码")
    check_role_level(role, info.level)
    return code


CHECKERS: dict[str, Callable[[Sheet, Known, Progress], Checked[Any]]] = {
    **NETWORK_CHECKERS,
    "volunteers": check_volunteers,
    "residents": check_residents,
    "roles": check_roles,
}
