"""Importing a network (导入名单): `xinfeng import DIR` and `xinfeng grant` (PRODUCT.md §9).

Centers keep their rosters in spreadsheets. `import_directory` reads org_units, teams,
volunteers, residents and roles (CSV, or XLSX when there is no CSV), checks every row of every
file first (`storage.roster.checks`), then writes each file that has no errors in its own
transaction, in dependency order. Re-importing updates rows matched by their natural key and
never duplicates: org units and teams by code, people by phone (residents without a phone by
name and village), role grants by (person, role, scope). Team memberships are only added.
The optional service-programme files (pairings, goods, points rules) are checked and written
by `storage.roster.programmes` under the same rules.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from storage import audit
from storage.models import LEVEL_ZH, OrgUnit, Person, RoleGrant, Team, TeamMember
from storage.roster.checks import CHECKERS
from storage.roster.files import (
    FILES,
    OPTIONAL_FILES,
    ROLE_ZH,
    Known,
    ResidentRecord,
    RoleRecord,
    RowError,
    Table,
    TeamInfo,
    TeamRecord,
    UnitInfo,
    UnitRecord,
    VolunteerRecord,
    check_role_level,
    delimited,
    find_file,
    parse_code,
    parse_phone,
    parse_role,
    read_table,
)
from storage.roster.lookups import FileCounts
from storage.roster.lookups import by_code as _by_code
from storage.roster.lookups import chunks as _chunks
from storage.roster.lookups import people_by_phone as _people_by_phone
from storage.roster.programmes import PROGRAMME_CHECKERS, PROGRAMME_WRITERS

# Generated invite codes: no 0/O, 1/I/L, so they survive being read aloud or copied by hand.
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_LENGTH = 6


@dataclass
class ImportReport:
    """The outcome of `import_directory`: counts per imported file and every error."""

    files: dict[str, str] = field(default_factory=dict)  # kind ("teams") -> file read ("teams.csv")
    counts: dict[str, FileCounts] = field(default_factory=dict)  # kind -> counts, imported files only
    errors: list[str] = field(default_factory=list)  # "file:line: reason"
    not_imported: list[str] = field(default_factory=list)  # files left out because of their errors

    @property
    def ok(self) -> bool:
        """True when every file was read and imported without a single error."""
        return not self.errors

    def summary(self) -> str:
        """A human-readable report for the command line."""
        lines = []
        for kind, filename in self.files.items():
            if kind in self.counts:
                c = self.counts[kind]
                lines.append(f"{filename}: {c.created} created, {c.updated} updated, {c.unchanged} unchanged")
            else:
                n = sum(e.startswith(f"{filename}:") for e in self.errors)
                lines.append(f"{filename}: NOT imported ({n} error{'s' if n != 1 else ''})")
        if self.errors:
            lines.append(f"{len(self.errors)} error(s):")
            lines.extend(f"  {e}" for e in self.errors)
        return "\n".join(lines)


async def import_directory(
    *, session_factory: async_sessionmaker[AsyncSession], directory: Path, now: datetime
) -> ImportReport:
    """Check every roster file in `directory`, then import each file that has no errors."""
    report = ImportReport()
    tables: dict[str, Table] = {}
    missing: dict[str, str] = {}
    for kind in FILES:
        path = find_file(directory, kind)
        if path is not None:
            tables[kind] = read_table(path, kind)
            report.files[kind] = path.name
        elif kind not in OPTIONAL_FILES:
            missing[kind] = f"{kind}.csv: not found in {directory} (nor {kind}.xlsx)"

    async with session_factory() as session:
        known = await _load_known(session, tables)
    # In FILES order: each check registers its codes/phones for the files after it.
    checkers = {**CHECKERS, **PROGRAMME_CHECKERS}
    checked = {kind: checkers[kind](table, known) for kind, table in tables.items()}
    for kind in FILES:  # errors in file order, a missing file where its errors would be
        if kind in missing:
            report.errors.append(missing[kind])
        elif kind in checked:
            report.errors.extend(checked[kind].errors)

    for kind, result in checked.items():
        if result.errors:
            report.not_imported.append(result.filename)
            continue
        async with session_factory() as session, session.begin():
            counts = await WRITERS[kind](session, result.records, now)
            audit.record(session, at=now, actor_id=None, action="import", target_type="file",
                         file=result.filename, created=counts.created, updated=counts.updated,
                         unchanged=counts.unchanged)
        report.counts[kind] = counts

    if report.not_imported:
        async with session_factory() as session, session.begin():
            for result in checked.values():
                if result.errors:
                    audit.record(session, at=now, actor_id=None, action="import", target_type="file",
                                 outcome="refused", file=result.filename,
                                 error_count=len(result.errors), errors=result.errors[:20])
    return report


async def grant_role(*, session: AsyncSession, phone: str, role: str, scope_code: str, now: datetime) -> str:
    """Grant one role to the person with `phone` (`xinfeng grant`); the caller commits."""
    try:
        phone, role = parse_phone(phone), parse_role(role)
        scope_code = parse_code(scope_code, "scope_code")
    except RowError as exc:
        raise ValueError(str(exc)) from None
    person = (await session.execute(select(Person).where(Person.phone == phone))).scalar_one_or_none()
    if person is None:
        raise ValueError(f"no one has phone {phone}: import them first (volunteers.csv or residents.csv)")
    team = (await _by_code(session, Team, [scope_code])).get(scope_code)
    unit = (await _by_code(session, OrgUnit, [scope_code])).get(scope_code)
    if role == "captain":
        if team is None:
            why = "is an org unit" if unit is not None else "is no team"
            raise ValueError(f"a captain is scoped to a team code; {scope_code} {why}")
        label, scope_name = ROLE_ZH[role], team.name
    else:
        if unit is None:
            why = "is a team" if team is not None else "is no org unit"
            raise ValueError(f"role {role} is scoped to an org unit code; {scope_code} {why}")
        try:
            check_role_level(role, unit.level)
        except RowError as exc:
            raise ValueError(str(exc)) from None
        label, scope_name = _role_label(role, unit.level), unit.name
    team_id = team.id if role == "captain" and team is not None else None
    unit_id = unit.id if role != "captain" and unit is not None else None
    existing = (await session.execute(select(RoleGrant.id).where(
        RoleGrant.person_id == person.id, RoleGrant.role == role,
        RoleGrant.team_id.is_(None) if team_id is None else RoleGrant.team_id == team_id,
        RoleGrant.org_unit_id.is_(None) if unit_id is None else RoleGrant.org_unit_id == unit_id,
    ))).first()
    if existing is None:
        session.add(RoleGrant(person_id=person.id, role=role, org_unit_id=unit_id, team_id=team_id))
    audit.record(session, at=now, actor_id=None, action="grant", target_type="person", target_id=person.id,
                 role=role, scope=scope_code, already=existing is not None, via="cli")
    await session.flush()
    who = f"{person.name} ({phone})"
    if existing is not None:
        return f"{who} is already {role} ({label}) of {scope_name} [{scope_code}]; nothing changed."
    return f"{who} is now {role} ({label}) of {scope_name} [{scope_code}]."


def _role_label(role: str, level: str) -> str:
    # An admin's title follows the level of its unit: 站长, 所长, 中心管理员.
    if role == "admin":
        return {"station": "站长", "institute": "所长"}.get(level, f"{LEVEL_ZH[level]}管理员")
    return ROLE_ZH[role]


# ---------------------------------------------------------------- what the database knows


async def _load_known(session: AsyncSession, tables: dict[str, Table]) -> Known:
    # Every unit and team is loaded: the network is small (a province: ~3,000 units, ~20,000
    # teams) and the level and parent-loop checks need the whole tree. People are many, so
    # only the phones roles.csv and pairings.csv name are looked up.
    known = Known()
    parent_unit = aliased(OrgUnit)
    units = select(OrgUnit.code, OrgUnit.level, parent_unit.code).outerjoin(
        parent_unit, parent_unit.id == OrgUnit.parent_id)
    for code, level, parent_code in await session.execute(units):
        known.units[code] = UnitInfo(level, parent_code, "db")
    parent_team = aliased(Team)
    teams = select(Team.code, Team.invite_code, parent_team.code).outerjoin(
        parent_team, parent_team.id == Team.parent_team_id)
    for code, invite, parent_code in await session.execute(teams):
        known.teams[code] = TeamInfo(parent_code, "db")
        known.invites[invite.upper()] = code
    phones = set()
    referring = [(tables[kind], column) for kind, column in (("roles", "phone"), ("pairings", "volunteer_phone"))
                 if kind in tables]
    for table, column in referring:
        for row in table.rows:
            try:
                phones.add(parse_phone(row.get(column)))
            except RowError:
                pass  # reported by that file's check
    for chunk in _chunks(sorted(phones)):
        for (phone,) in await session.execute(select(Person.phone).where(Person.phone.in_(chunk))):
            known.phones[phone] = "db"
    return known


# ---------------------------------------------------------------- writing, one file each


async def _write_org_units(session: AsyncSession, records: list[UnitRecord], now: datetime) -> FileCounts:
    units = {u.code: u for u in (await session.execute(select(OrgUnit))).scalars()}
    before: dict[str, tuple[Any, ...]] = {}
    for rec in records:
        unit = units.get(rec.code)
        if unit is None:
            units[rec.code] = unit = OrgUnit(code=rec.code, name=rec.name, level=rec.level, path="")
            session.add(unit)
        else:
            before[rec.code] = (unit.name, unit.level, unit.parent_id)
            unit.name, unit.level = rec.name, rec.level
    await session.flush()  # new units get the ids that parent links and paths are made of
    counts = FileCounts()
    for rec in records:
        unit = units[rec.code]
        unit.parent_id = units[rec.parent_code].id if rec.parent_code else None
        counts.tally(before.get(rec.code), (unit.name, unit.level, unit.parent_id))
    _set_paths(units.values())
    await session.flush()
    return counts


def _set_paths(units: Iterable[OrgUnit]) -> None:
    # Recomputed for the whole tree, so a unit moved under a new parent carries its subtree.
    by_id = {u.id: u for u in units}
    paths: dict[int, str] = {}

    def path(unit: OrgUnit) -> str:
        if unit.id not in paths:
            parent = by_id.get(unit.parent_id) if unit.parent_id is not None else None
            paths[unit.id] = (path(parent) if parent is not None else "/") + f"{unit.id}/"
        return paths[unit.id]

    for unit in by_id.values():
        if unit.path != path(unit):
            unit.path = path(unit)


async def _write_teams(session: AsyncSession, records: list[TeamRecord], now: datetime) -> FileCounts:
    units = await _by_code(session, OrgUnit, {r.org_code for r in records})
    teams = await _by_code(session, Team, {r.code for r in records} | {r.parent_code for r in records if r.parent_code})
    taken = {code.upper() for code in (await session.execute(select(Team.invite_code))).scalars()}
    taken |= {r.invite_code for r in records if r.invite_code}
    before: dict[str, tuple[Any, ...]] = {}
    for rec in records:
        team = teams.get(rec.code)
        if team is None:
            # A blank invite code on re-import keeps the team's code: members already use it.
            invite = rec.invite_code or _new_invite(taken)
            teams[rec.code] = team = Team(code=rec.code, name=rec.name, invite_code=invite,
                                          org_unit_id=units[rec.org_code].id)
            session.add(team)
        else:
            before[rec.code] = (team.name, team.org_unit_id, team.categories, team.invite_code, team.parent_team_id)
        team.name, team.org_unit_id = rec.name, units[rec.org_code].id
        team.categories = delimited(rec.categories)
        if rec.invite_code:
            team.invite_code = rec.invite_code
    await session.flush()
    counts = FileCounts()
    for rec in records:
        team = teams[rec.code]
        team.parent_team_id = teams[rec.parent_code].id if rec.parent_code else None
        counts.tally(before.get(rec.code),
                     (team.name, team.org_unit_id, team.categories, team.invite_code, team.parent_team_id))
    await session.flush()
    return counts


def _new_invite(taken: set[str]) -> str:
    while True:
        code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
        if code not in taken:
            taken.add(code)
            return code


async def _write_volunteers(session: AsyncSession, records: list[VolunteerRecord], now: datetime) -> FileCounts:
    people = await _people_by_phone(session, [r.phone for r in records])
    units = await _by_code(session, OrgUnit, {r.org_code for r in records})
    teams = await _by_code(session, Team, {t for r in records for t in r.team_codes})

    def state(p: Person) -> tuple[Any, ...]:
        return (p.name, p.org_unit_id, p.is_volunteer, p.party_member, p.skills)

    before: dict[str, tuple[Any, ...]] = {}
    for rec in records:
        person = people.get(rec.phone)
        if person is None:
            people[rec.phone] = person = Person(name=rec.name, phone=rec.phone, created_at=now,
                                                org_unit_id=units[rec.org_code].id)
            session.add(person)
        else:
            before[rec.phone] = state(person)
        person.name, person.is_volunteer, person.party_member = rec.name, True, rec.party_member
        person.skills = delimited(rec.skills)
        # A resident's unit is their village, where their requests start: the roster unit of
        # a volunteer who is also a resident must not move it (nor flip it on every import).
        if not (person.is_resident and person.org_unit_id is not None):
            person.org_unit_id = units[rec.org_code].id
    await session.flush()
    joined = await _add_memberships(session, [(people[r.phone].id, teams[t].id) for r in records for t in r.team_codes])
    counts = FileCounts()
    for rec in records:
        person = people[rec.phone]
        # A new membership is an update of the person even when their own fields stayed put.
        after = state(person) + ((person.id in joined),)
        counts.tally(before[rec.phone] + (False,) if rec.phone in before else None, after)
    return counts


async def _add_memberships(session: AsyncSession, pairs: list[tuple[int, int]]) -> set[int]:
    # Memberships are only added: a volunteer left off a team's list may have joined by invite.
    existing: set[tuple[int, int]] = set()
    for chunk in _chunks(sorted({p for p, _ in pairs})):
        rows = await session.execute(select(TeamMember.person_id, TeamMember.team_id)
                                     .where(TeamMember.person_id.in_(chunk)))
        existing.update((p, t) for p, t in rows)
    joined: set[int] = set()
    for pair in dict.fromkeys(pairs):
        if pair not in existing:
            session.add(TeamMember(person_id=pair[0], team_id=pair[1]))
            joined.add(pair[0])
    await session.flush()
    return joined


async def _write_residents(session: AsyncSession, records: list[ResidentRecord], now: datetime) -> FileCounts:
    people = await _people_by_phone(session, [r.phone for r in records if r.phone])
    units = await _by_code(session, OrgUnit, {r.org_code for r in records})
    # Without a phone, a resident is known by name and village (a phone-less person only).
    unphoned: dict[tuple[str, int], Person] = {}
    unit_ids = sorted({u.id for u in units.values()})
    for chunk in _chunks(unit_ids):
        stmt = (select(Person).where(Person.phone.is_(None), Person.org_unit_id.in_(chunk))
                .order_by(Person.id.desc()))
        for found in (await session.execute(stmt)).scalars():
            unphoned[(found.name, found.org_unit_id or 0)] = found  # newest first: the oldest wins
    counts = FileCounts()
    for rec in records:
        unit_id = units[rec.org_code].id
        person = people.get(rec.phone) if rec.phone else unphoned.get((rec.name, unit_id))
        before = None if person is None else (person.name, person.org_unit_id, person.is_resident)
        if person is None:
            person = Person(name=rec.name, phone=rec.phone, created_at=now)
            session.add(person)
        person.name, person.org_unit_id, person.is_resident = rec.name, unit_id, True
        counts.tally(before, (person.name, person.org_unit_id, person.is_resident))
    await session.flush()
    return counts


async def _write_roles(session: AsyncSession, records: list[RoleRecord], now: datetime) -> FileCounts:
    people = await _people_by_phone(session, [r.phone for r in records])
    teams = await _by_code(session, Team, {r.scope_code for r in records if r.role == "captain"})
    units = await _by_code(session, OrgUnit, {r.scope_code for r in records if r.role != "captain"})
    existing: set[tuple[int, str, int | None, int | None]] = set()
    for chunk in _chunks(sorted({p.id for p in people.values()})):
        stmt = select(RoleGrant.person_id, RoleGrant.role, RoleGrant.org_unit_id, RoleGrant.team_id)
        existing.update(tuple(row) for row in await session.execute(stmt.where(RoleGrant.person_id.in_(chunk))))
    counts = FileCounts()
    for rec in records:
        person = people[rec.phone]
        team_id = teams[rec.scope_code].id if rec.role == "captain" else None
        unit_id = units[rec.scope_code].id if rec.role != "captain" else None
        key = (person.id, rec.role, unit_id, team_id)
        if key in existing:
            counts.unchanged += 1
            continue
        existing.add(key)
        session.add(RoleGrant(person_id=person.id, role=rec.role, org_unit_id=unit_id, team_id=team_id))
        audit.record(session, at=now, actor_id=None, action="grant", target_type="person", target_id=person.id,
                     role=rec.role, scope=rec.scope_code, via="import")
        counts.created += 1
    await session.flush()
    return counts


WRITERS: dict[str, Callable[[AsyncSession, Any, datetime], Awaitable[FileCounts]]] = {
    "org_units": _write_org_units,
    "teams": _write_teams,
    "volunteers": _write_volunteers,
    "residents": _write_residents,
    "roles": _write_roles,
    **PROGRAMME_WRITERS,
}
