"""Importing a network (导入名单): `xinfeng import` (docs/import.md).

Centers keep their rosters in spreadsheets. `import_roster` finds the sheets (a directory, a
workbook, files named by flag: `storage.roster.sheets`), checks every row of every sheet first
(`storage.roster.checks`), then writes each sheet that has no errors in its own transaction, in
dependency order. Re-importing updates rows matched by their natural key and never duplicates:
org units and teams by code, people by phone (residents without a phone by name and village),
role grants by (person, role, scope). Team memberships are only added. The optional
service-programme files (pairings, goods, points rules) follow the same rules
(`storage.roster.programmes`).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from storage import audit
from storage.models import OrgUnit, Person, Team
from storage.roster.columns import FILES, KIND_ZH, OPTIONAL_FILES
from storage.roster.files import RowError, parse_phone
from storage.roster.grants import grant_role
from storage.roster.lookups import FileCounts, chunks
from storage.roster.people import write_residents, write_volunteers
from storage.roster.people_checks import CHECKERS
from storage.roster.programmes import PROGRAMME_CHECKERS, PROGRAMME_WRITERS
from storage.roster.progress import NO_PROGRESS, Progress
from storage.roster.records import Checked, Known, TeamInfo, UnitInfo
from storage.roster.sheets import Sheet, find_sheets
from storage.roster.writers import (
    INVITE_ALPHABET,
    write_org_units,
    write_roles,
    write_teams,
)

__all__ = ["INVITE_ALPHABET", "ImportReport", "grant_role", "import_directory", "import_roster"]

# What must already be in the database when a directory import lacks the file.
_PRESENT = {"org_units": select(OrgUnit.id).limit(1), "teams": select(Team.id).limit(1),
            "volunteers": select(Person.id).where(Person.is_volunteer.is_(True)).limit(1)}


@dataclass
class ImportReport:
    """The outcome of an import: what was read, counts per imported sheet, and every error."""

    files: dict[str, str] = field(default_factory=dict)  # kind ("teams") -> sheet read ("队伍.xlsx")
    counts: dict[str, FileCounts] = field(default_factory=dict)  # kind -> counts, imported sheets only
    errors: list[str] = field(default_factory=list)  # by file then line; a row's problems on one line
    not_imported: list[str] = field(default_factory=list)  # sheets left out because of their errors
    bad_rows: dict[str, int] = field(default_factory=dict)  # sheet -> rows with errors
    skipped: list[str] = field(default_factory=list)  # sheets that are no roster

    @property
    def ok(self) -> bool:
        """True when every sheet was read and imported without a single error."""
        return not self.errors

    def summary(self) -> str:
        """What happened to each sheet, one line each (the errors are listed apart)."""
        lines = []
        for kind, name in self.files.items():
            if kind in self.counts:
                c = self.counts[kind]
                lines.append(f"{KIND_ZH[kind]} {name}：新增 {c.created}，更新 {c.updated}，未变 {c.unchanged}")
            else:
                n = self.bad_rows.get(name, 0)
                lines.append(f"{KIND_ZH[kind]} {name}：未导入（{f'{n} 行有错误' if n else '无法读取'}）")
        if self.skipped:
            lines.append(f"已跳过（不是名单）：{'、'.join(self.skipped)}")
        return "\n".join(lines)

    def total_line(self, seconds: float | None = None) -> str:
        """One line for the whole import: rows created/updated/unchanged, sheets refused, time."""
        created = sum(c.created for c in self.counts.values())
        updated = sum(c.updated for c in self.counts.values())
        unchanged = sum(c.unchanged for c in self.counts.values())
        text = (f"{'导入完成' if self.ok else '导入有错误'}：{len(self.counts)} 个名单已导入"
                f"（新增 {created}，更新 {updated}，未变 {unchanged}）")
        if self.not_imported:
            text += f"，{len(self.not_imported)} 个名单有错误未导入"
        if self.errors:
            text += f"，共 {len(self.errors)} 条错误"
        return text + (f"，用时 {seconds:.1f} 秒" if seconds is not None else "")


async def import_directory(
    *, session_factory: async_sessionmaker[AsyncSession], directory: Path, now: datetime,
    progress: Progress = NO_PROGRESS,
) -> ImportReport:
    """Check every roster sheet in `directory`, then import each that has no errors."""
    return await import_roster(session_factory=session_factory, paths=[directory], chosen={}, now=now,
                               progress=progress)


async def import_roster(
    *, session_factory: async_sessionmaker[AsyncSession], paths: list[Path], chosen: dict[str, Path],
    now: datetime, progress: Progress = NO_PROGRESS,
) -> ImportReport:
    """Import the sheets found in `paths` (directories or workbooks) and those `chosen` by kind."""
    report = ImportReport()
    found = find_sheets(paths, chosen)
    report.skipped = found.skipped
    sheets = {kind: found.sheets[kind] for kind in FILES if kind in found.sheets}
    report.files = {kind: sheet.name for kind, sheet in sheets.items()}

    async with session_factory() as session:
        known = await _load_known(session, sheets)
        missing = [kind for kind in FILES if kind not in sheets and kind not in OPTIONAL_FILES
                   and any(p.is_dir() for p in paths) and (await session.execute(_PRESENT[kind])).first() is None]
    report.errors.extend(found.errors)

    # In FILES order: each check registers its codes/phones for the sheets after it.
    checkers = {**CHECKERS, **PROGRAMME_CHECKERS}
    checked: dict[str, Checked[Any]] = {}
    for kind, sheet in sheets.items():
        if sheet.errors:
            known.failed.add(sheet.name)
            checked[kind] = Checked(sheet.name, [], list(sheet.errors))
        else:
            checked[kind] = checkers[kind](sheet, known, progress)
        if checked[kind].bad_rows:
            report.bad_rows[sheet.name] = checked[kind].bad_rows
    for kind in FILES:  # errors in file order, a missing file where its errors would be
        if kind in missing:
            report.errors.append(f"找不到{KIND_ZH[kind]}名单：{'、'.join(str(p) for p in paths)} 里没有"
                                 f"（如 {kind}.csv、{KIND_ZH[kind]}.xlsx），数据库里也还没有")
        elif kind in checked:
            report.errors.extend(checked[kind].errors)

    for kind, result in checked.items():
        if result.errors:
            report.not_imported.append(result.filename)
            continue
        async with session_factory() as session, session.begin():
            counts = await _write(kind, session, result, sheets[kind], now, progress)
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


async def _write(kind: str, session: AsyncSession, result: Checked[Any], sheet: Sheet, now: datetime,
                 progress: Progress) -> FileCounts:
    columns = frozenset(sheet.match.positions) if sheet.match is not None else frozenset()
    if kind == "volunteers":
        return await write_volunteers(session, result.stream(), now, progress, result.total, result.filename,
                                      columns)
    if kind == "residents":
        return await write_residents(session, result.records, now, progress, result.total, result.filename)
    writer = WRITERS[kind]
    if kind == "org_units":
        writer = functools.partial(write_org_units, columns=columns)
    progress.start(f"写入 {result.filename}", result.total)
    counts = await writer(session, result.records, now)
    progress.update(result.total)
    progress.finish()
    return counts


# ---------------------------------------------------------------- what the database knows


async def _load_known(session: AsyncSession, sheets: dict[str, Sheet]) -> Known:
    # Every unit and team is loaded: the network is small (a province: ~3,000 units, ~20,000
    # teams) and the level and parent-loop checks need the whole tree. People are many, so
    # only the phones the roles and pairings sheets name are looked up.
    known = Known()
    parent_unit = aliased(OrgUnit)
    units = select(OrgUnit.code, OrgUnit.name, OrgUnit.level, parent_unit.code).outerjoin(
        parent_unit, parent_unit.id == OrgUnit.parent_id)
    for code, name, level, parent_code in await session.execute(units):
        known.units[code] = UnitInfo(level, parent_code, "db")
        known.name_unit(name, code)
    parent_team = aliased(Team)
    teams = select(Team.code, Team.name, Team.invite_code, parent_team.code).outerjoin(
        parent_team, parent_team.id == Team.parent_team_id)
    for code, name, invite, parent_code in await session.execute(teams):
        known.teams[code] = TeamInfo(parent_code, "db")
        known.name_team(name, code)
        known.invites[invite.upper()] = code
    for kind, column in (("roles", "phone"), ("pairings", "volunteer_phone")):
        sheet = sheets.get(kind)
        if sheet is None or sheet.errors:
            continue
        for row, _ in sheet.rows():
            try:
                known.wanted.add(parse_phone(row.get(column)))
            except RowError:
                pass  # reported by that sheet's check
    for chunk in chunks(sorted(known.wanted)):
        for (phone,) in await session.execute(select(Person.phone).where(Person.phone.in_(chunk))):
            known.phones[phone] = "db"
    return known


WRITERS: dict[str, Callable[[AsyncSession, Any, datetime], Awaitable[FileCounts]]] = {
    "org_units": write_org_units,
    "teams": write_teams,
    "roles": write_roles,
    **PROGRAMME_WRITERS,
}
