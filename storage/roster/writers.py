"""Writing the network files: org units (with their paths), teams (with invite codes) and role grants.

Each writer runs in the import's transaction for its file, matches rows by natural key (code;
person, role and scope) and counts what it created, updated or left unchanged. The network is
small (a province: ~3,000 units, ~20,000 teams), so these writers use ORM objects.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.models import OrgUnit, RoleGrant, Team
from storage.roster.files import delimited
from storage.roster.lookups import FileCounts, by_code, chunks, people_by_phone
from storage.roster.records import RoleRecord, TeamRecord, UnitRecord

# Generated invite codes: no 0/O, 1/I/L, so they survive being read aloud or copied by hand.
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_LENGTH = 6


async def write_org_units(session: AsyncSession, records: list[UnitRecord], now: datetime,
                          columns: frozenset[str] = frozenset()) -> FileCounts:
    """Create or update units by code, link parents, and recompute every path.

    `duty_phone` and `division_code` are written only when the file has those columns: a sheet
    without them leaves what an earlier import set.
    """
    units = {u.code: u for u in (await session.execute(select(OrgUnit))).scalars()}
    before: dict[str, tuple[Any, ...]] = {}
    for rec in records:
        unit = units.get(rec.code)
        if unit is None:
            units[rec.code] = unit = OrgUnit(code=rec.code, name=rec.name, level=rec.level, path="")
            session.add(unit)
        else:
            before[rec.code] = (unit.name, unit.level, unit.parent_id, unit.duty_phone, unit.division_code)
        unit.name, unit.level = rec.name, rec.level
        if "duty_phone" in columns:
            unit.duty_phone = rec.duty_phone
        if "division_code" in columns:
            unit.division_code = rec.division_code
    await session.flush()  # new units get the ids that parent links and paths are made of
    counts = FileCounts()
    for rec in records:
        unit = units[rec.code]
        unit.parent_id = units[rec.parent_code].id if rec.parent_code else None
        counts.tally(before.get(rec.code), (unit.name, unit.level, unit.parent_id, unit.duty_phone, unit.division_code))
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


async def write_teams(session: AsyncSession, records: list[TeamRecord], now: datetime) -> FileCounts:
    """Create or update teams by code (a blank invite code is generated once), then link parents."""
    units = await by_code(session, OrgUnit, {r.org_code for r in records})
    teams = await by_code(session, Team, {r.code for r in records} | {r.parent_code for r in records if r.parent_code})
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


async def write_roles(session: AsyncSession, records: list[RoleRecord], now: datetime) -> FileCounts:
    """Grant each role once per (person, role, scope); grants left out of a later file are kept."""
    people = await people_by_phone(session, [r.phone for r in records])
    teams = await by_code(session, Team, {r.scope_code for r in records if r.role == "captain"})
    units = await by_code(session, OrgUnit, {r.scope_code for r in records if r.role != "captain"})
    existing: set[tuple[int, str, int | None, int | None]] = set()
    for chunk in chunks(sorted({p.id for p in people.values()})):
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
