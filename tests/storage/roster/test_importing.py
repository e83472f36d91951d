"""Importing a network (docs/import.md): the demo county, idempotence, every error kind, paths, XLSX, grants."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.clock import FixedClock
from storage.models import AuditEntry, OrgUnit, Person, PointsAccount, RoleGrant, Team, TeamMember
from storage.people.network import in_subtree
from storage.roster.files import FILES, parse_level, parse_party, parse_phone
from storage.roster.importing import (
    INVITE_ALPHABET,
    ImportReport,
    grant_role,
    import_directory,
)

DEMO = Path(__file__).resolve().parents[3] / "bot" / "demo"
Sessions = async_sessionmaker[AsyncSession]


def demo_copy(tmp_path: Path) -> Path:
    """The demo files in a directory of the test's own."""
    out = tmp_path / "roster"
    out.mkdir()
    for kind in FILES:
        shutil.copy(DEMO / f"{kind}.csv", out / f"{kind}.csv")
    return out


def edit(directory: Path, filename: str, old: str, new: str) -> None:
    """Replace one exact piece of a roster file."""
    path = directory / filename
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(directory: Path, filename: str, line: str) -> None:
    """Add a row at the end of a roster file."""
    with (directory / filename).open("a", encoding="utf-8") as f:
        f.write(line + "\n")


async def run(sessions: Sessions, directory: Path, clock: FixedClock) -> ImportReport:
    return await import_directory(session_factory=sessions, directory=directory, now=clock.now())


async def count(sessions: Sessions, model: Any, *where: Any) -> int:
    async with sessions() as s:
        return int((await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


async def unit(sessions: Sessions, code: str) -> OrgUnit:
    async with sessions() as s:
        return (await s.execute(select(OrgUnit).where(OrgUnit.code == code))).scalar_one()


async def person(sessions: Sessions, phone: str) -> Person:
    async with sessions() as s:
        return (await s.execute(select(Person).where(Person.phone == phone))).scalar_one()


def counts(report: ImportReport) -> dict[str, tuple[int, int, int]]:
    return {k: (c.created, c.updated, c.unchanged) for k, c in report.counts.items()}


# ---------------------------------------------------------------- the demo county


async def test_demo_imports_cleanly(sessions: Sessions, clock: FixedClock) -> None:
    report = await run(sessions, DEMO, clock)

    assert report.ok, report.summary()
    assert counts(report) == {
        "org_units": (19, 0, 0),
        "teams": (10, 0, 0),
        "volunteers": (33, 0, 0),
        "residents": (5, 0, 0),
        "roles": (18, 0, 0),
        "pairings": (5, 0, 0),
        "goods": (3, 0, 0),
        "points_rules": (1, 0, 0),
    }
    assert await count(sessions, Person) == 38
    assert await count(sessions, Person, Person.is_volunteer.is_(True)) == 33
    assert await count(sessions, Person, Person.is_resident.is_(True)) == 5

    ln, dd, dg, htk, yj = [await unit(sessions, c) for c in ("LN", "DD", "DG", "DG-HTK", "DG-HTK-YJ")]
    assert yj.path == f"/{ln.id}/{dd.id}/{dg.id}/{htk.id}/{yj.id}/"
    assert yj.parent_id == htk.id and ln.parent_id is None and ln.path == f"/{ln.id}/"
    assert yj.name.endswith("杨家村新时代文明实践站")

    async with sessions() as s:
        kj = (await s.execute(select(Team).where(Team.code == "BP-KJD"))).scalar_one()
        xjt = (await s.execute(select(Team).where(Team.code == "BP-XJT"))).scalar_one()
        pl = (await s.execute(select(Team).where(Team.code == "BP-CG-PL-D"))).scalar_one()
        fd = (await s.execute(select(Team).where(Team.code == "BP-CG-FD"))).scalar_one()
        strawberry = (await s.execute(select(Team).where(Team.code == "DG-CMD"))).scalar_one()
    assert kj.categories == "|农业技术|" and kj.invite_code == "KJ2026"
    assert xjt.categories == "|理论宣讲|移风易俗|"
    assert pl.parent_team_id == fd.id
    assert await count(sessions, TeamMember, TeamMember.team_id == kj.id) >= 3
    assert await count(sessions, TeamMember, TeamMember.team_id == strawberry.id) >= 3

    jiang = await person(sessions, "13900000021")
    assert jiang.name == "姜兆彤" and jiang.is_volunteer and jiang.party_member
    assert jiang.skills == "|草莓种植|植物病害防治|"
    assert await count(sessions, RoleGrant, RoleGrant.role == "captain") == 10
    assert await count(sessions, RoleGrant, RoleGrant.role == "admin") == 5
    for role in ("federation_admin", "first_secretary", "shopkeeper"):
        assert await count(sessions, RoleGrant, RoleGrant.role == role) == 1
    assert await count(sessions, AuditEntry, AuditEntry.action == "import") == 8
    assert await count(sessions, AuditEntry, AuditEntry.action == "grant") == 18


async def test_reimport_is_idempotent_and_updates_edits(sessions: Sessions, clock: FixedClock, tmp_path: Path) -> None:
    roster = demo_copy(tmp_path)
    await run(sessions, roster, clock)
    tables = (OrgUnit, Team, Person, TeamMember, RoleGrant)
    before = [await count(sessions, t) for t in tables]

    again = await run(sessions, roster, clock)
    assert again.ok
    assert counts(again) == {"org_units": (0, 0, 19), "teams": (0, 0, 10), "volunteers": (0, 0, 33),
                             "residents": (0, 0, 5), "roles": (0, 0, 18), "pairings": (0, 0, 5),
                             "goods": (0, 0, 3), "points_rules": (0, 0, 1)}
    assert [await count(sessions, t) for t in tables] == before
    async with sessions() as s:
        codes = dict((await s.execute(select(PointsAccount.person_id, PointsAccount.code))).all())
    assert len(codes) == 33 and len(set(codes.values())) == 33  # every volunteer's account, opened once

    edit(roster, "volunteers.csv", "刘玉芬,13900000002,BP,BP-KJD,", "刘玉芳,139 0000 0002,BP,BP-KJD|BP-WYD,")
    edit(roster, "volunteers.csv", "陈刚,13900000001,BP,BP-KJD,", "陈刚,13900000001,BP,,")  # not removed
    edit(roster, "teams.csv", "北票市法律服务队", "北票市法律志愿服务队")
    third = await run(sessions, roster, clock)
    assert third.ok
    assert counts(third)["volunteers"] == (0, 1, 32)
    assert counts(third)["teams"] == (0, 1, 9)
    assert (await person(sessions, "13900000002")).name == "刘玉芳"
    assert await count(sessions, Person) == before[2]
    assert await count(sessions, TeamMember) == before[3] + 1  # one added, none removed
    async with sessions() as s:
        assert dict((await s.execute(select(PointsAccount.person_id, PointsAccount.code))).all()) == codes


async def test_volunteer_who_is_also_a_resident_keeps_the_village(
    sessions: Sessions, clock: FixedClock, tmp_path: Path
) -> None:
    roster = demo_copy(tmp_path)
    append(roster, "residents.csv", "陈刚,13900000001,BP-TJ-BS")
    first = await run(sessions, roster, clock)
    assert first.ok
    chen = await person(sessions, "13900000001")
    assert chen.is_volunteer and chen.is_resident
    assert chen.org_unit_id == (await unit(sessions, "BP-TJ-BS")).id
    second = await run(sessions, roster, clock)
    assert counts(second)["volunteers"] == (0, 0, 33) and counts(second)["residents"] == (0, 0, 6)


async def test_resident_without_phone_is_matched_by_name_and_village(
    sessions: Sessions, clock: FixedClock, tmp_path: Path
) -> None:
    roster = demo_copy(tmp_path)
    append(roster, "residents.csv", "孙奶奶,,BP-DB-SJZ")
    for expected in ((6, 0, 0), (0, 0, 6)):
        report = await run(sessions, roster, clock)
        assert report.ok and counts(report)["residents"] == expected
    assert await count(sessions, Person, Person.name == "孙奶奶", Person.phone.is_(None)) == 1


async def test_blank_invite_codes_are_generated_once(sessions: Sessions, clock: FixedClock, tmp_path: Path) -> None:
    roster = demo_copy(tmp_path)
    edit(roster, "teams.csv", ",CG2026", ",")
    edit(roster, "teams.csv", ",PL2026", ",")
    await run(sessions, roster, clock)
    async with sessions() as s:
        codes = {c: i for c, i in await s.execute(select(Team.code, Team.invite_code))}
    generated = [codes["BP-CG-FD"], codes["BP-CG-PL-D"]]
    assert all(len(c) == 6 and set(c) <= set(INVITE_ALPHABET) for c in generated)
    assert len(set(codes.values())) == len(codes)
    again = await run(sessions, roster, clock)
    assert counts(again)["teams"] == (0, 0, 10)
    async with sessions() as s:
        assert {c: i for c, i in await s.execute(select(Team.code, Team.invite_code))} == codes


# ---------------------------------------------------------------- errors, by kind

ORG, TEAMS, VOLS, RES, ROLES = "org_units.csv", "teams.csv", "volunteers.csv", "residents.csv", "roles.csv"
# (file, old text or None to append, new text, line, reason). Appended rows land on the line
# after the demo's last: org_units 21, teams 12, volunteers 35, residents 7, roles 20.
ERROR_CASES = [
    (ORG, "code,name,level,parent_code", "code,name,parent_code", 1, "缺少列：层级（level）"),
    (ORG, None, "BP-X,,station,BP-CG", 21, "单位名称是空的"),
    (ORG, None, ",某站,station,BP-CG", 21, "单位编码是空的"),
    (ORG, None, "BP-X,某站,village,BP-CG", 21, "层级“village”看不懂"),
    (ORG, None, "BP-X,某站,station,BP-CG-PL", 21, "上级“BP-CG-PL”是站，站只能挂在更高的层级下"),
    (ORG, None, "BP-X,某所,institute,BP-CG-PL", 21, "上级“BP-CG-PL”是站，所只能挂在更高的层级下"),
    (ORG, None, "BP-X,某站,station,NOPE", 21, "上级编码“NOPE”：没有这个单位"),
    (ORG, None, "BP-X,某站,station,BP-X", 21, "上级编码就是本单位自己"),
    (ORG, None, "BP-CG,重复,institute,BP", 21, "单位编码“BP-CG”与第9行重复"),
    (ORG, None, "BP X,某站,station,BP-CG", 21, "单位编码“BP X”不对"),
    (ORG, None, "BP-X,某站,station,BP-CG,,,extra", 21, "有 7 个值，但表头只有 6 列"),
    (ORG, None, "BP-X,某站,station,BP-CG,5612301x,", 21, "值班电话“5612301x”不对"),
    (ORG, None, "BP-X,某站,station,BP-CG,,21138", 21, "行政区划代码“21138”不对"),
    (TEAMS, "code,name,org_code,categories,parent_code,invite_code", "code,name,categories", 1,
     "缺少列：所属单位编码（org_code）"),
    (TEAMS, None, "T-X,某队,NOPE,其他,,", 12, "所属单位“NOPE”：没有这个单位"),
    (TEAMS, None, "T-X,某队,BP,其他,NOPE,", 12, "上级队伍编码“NOPE”：没有这个队伍"),
    (TEAMS, None, "T-X,某队,BP,其他,,kj2026", 12, "邀请码“KJ2026”与第3行重复"),
    (TEAMS, None, "T-X,某队,BP,其他,,K!", 12, "邀请码“K!”不对"),
    (TEAMS, None, "T-X,某队,BP,农业|其他,,", 12, "服务类别“农业”不在类别表里"),
    (TEAMS, None, "BP-KJD,某队,BP,其他,,", 12, "队伍编码“BP-KJD”与第3行重复"),
    (TEAMS, "其他,,ZD2026", "其他,BP-CG-PL-D,ZD2026", 2, "会让上下级队伍绕回"),
    (VOLS, None, "某人,12345,BP,,,", 35, "手机号“12345”不对"),
    (VOLS, None, "某人,139-0000-0001,BP,,,", 35, "手机号“13900000001”与第2行重复"),
    (VOLS, None, "某人,13900000999,NOPE,,,", 35, "所属单位“NOPE”：没有这个单位"),
    (VOLS, None, "某人,13900000999,BP,BP-KJD|NOPE,,", 35, "队伍“NOPE”：没有这个队伍"),
    (VOLS, None, "某人,13900000999,BP,,,maybe", 35, "是否党员“maybe”看不懂"),
    (VOLS, None, ",13900000999,BP,,,", 35, "姓名是空的"),
    (RES, None, "某人,13900000998,BP", 7, "所属村“BP”是中心；居民要填所在的村（社区）站点或点"),
    (RES, None, "某人,13900000998,", 7, "所属村是空的"),
    (RES, None, "某人,10000,BP-CG-PL", 7, "手机号“10000”不对"),
    (RES, None, "王大娘,13900000901,BP-CG-PL", 7, "手机号“13900000901”与第2行重复"),
    (ROLES, None, "13900000001,boss,BP", 20, "角色“boss”看不懂"),
    (ROLES, None, "13900000001,captain,BP", 20, "队长的范围要填队伍编码，“BP”是单位"),
    (ROLES, None, "13900000001,admin,BP-KJD", 20, "管理员的范围要填单位编码，“BP-KJD”是队伍"),
    (ROLES, None, "13900000001,admin,NOPE", 20, "范围编码“NOPE”：没有这个单位"),
    (ROLES, None, "13900000001,captain,NOPE", 20, "范围编码“NOPE”：没有这个队伍"),
    (ROLES, None, "13900000001,first_secretary,BP", 20, "驻村第一书记只能管站，这里填的是中心"),
    (ROLES, None, "13900000001,shopkeeper,BP-CG", 20, "爱心超市店长只能管站/点"),
    (ROLES, None, "13900000999,admin,BP", 20, "手机号“13900000999”：没有这个人"),
    (ROLES, None, "13900000001,captain,BP-KJD", 20, "同一人同一角色同一范围与第3行重复"),
    (ROLES, None, "1390000000,admin,BP", 20, "手机号“1390000000”不对"),
]
# What must stay empty when a file is refused.
NOTHING_FROM = {
    ORG: (OrgUnit,),
    TEAMS: (Team,),
    VOLS: (Person, Person.is_volunteer.is_(True)),
    RES: (Person, Person.is_resident.is_(True)),
    ROLES: (RoleGrant,),
}


@pytest.mark.parametrize(("filename", "old", "new", "line", "reason"), ERROR_CASES)
async def test_every_bad_row_is_reported_and_its_file_not_imported(
    sessions: Sessions, clock: FixedClock, tmp_path: Path,
    filename: str, old: str | None, new: str, line: int, reason: str,
) -> None:
    roster = demo_copy(tmp_path)
    if old is None:
        append(roster, filename, new)
    else:
        edit(roster, filename, old, new)

    report = await run(sessions, roster, clock)

    assert not report.ok
    mine = [e for e in report.errors if e.startswith(f"{filename} ")]
    assert any(e.startswith(f"{filename} 第{line}行：") and reason in e for e in mine), mine
    assert filename in report.not_imported
    assert filename.removesuffix(".csv") not in report.counts
    assert await count(sessions, *NOTHING_FROM[filename]) == 0
    assert f"{filename}：未导入" in report.summary()


async def test_a_refused_file_leaves_the_database_as_it_was(
    sessions: Sessions, clock: FixedClock, tmp_path: Path
) -> None:
    roster = demo_copy(tmp_path)
    await run(sessions, roster, clock)
    edit(roster, VOLS, "刘玉芬", "刘玉芳")  # a good edit ...
    append(roster, VOLS, "某人,12345,BP,,,")  # ... in a file with a bad row
    edit(roster, TEAMS, "北票市法律服务队", "北票市法律志愿服务队")
    report = await run(sessions, roster, clock)
    assert report.not_imported == [VOLS]
    assert counts(report)["teams"] == (0, 1, 9)  # files without errors still import
    assert counts(report)["roles"] == (0, 0, 18)
    assert (await person(sessions, "13900000002")).name == "刘玉芬"
    async with sessions() as s:
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.outcome == "refused"))).scalars().all()
    assert [a.detail["file"] for a in refused] == [VOLS]


async def test_rows_that_need_a_refused_file_say_so(sessions: Sessions, clock: FixedClock, tmp_path: Path) -> None:
    roster = demo_copy(tmp_path)
    append(roster, ORG, "BP-X,某站,village,BP-CG")
    report = await run(sessions, roster, clock)
    assert "teams.csv 第2行：所属单位“BP”在 org_units.csv 里，而那个文件有错误" in report.errors
    # All of a row's problems on its one line.
    assert ("roles.csv 第2行：范围编码“BP-ZD”在 teams.csv 里，而那个文件有错误；"
            "手机号“13900000015”在 volunteers.csv 里，而那个文件有错误") in report.errors
    assert set(report.not_imported) == {ORG, TEAMS, VOLS, RES, ROLES, "pairings.csv", "goods.csv", "points_rules.csv"}
    assert await count(sessions, Person) == 0


async def test_missing_required_file_is_reported(sessions: Sessions, clock: FixedClock, tmp_path: Path) -> None:
    roster = demo_copy(tmp_path)
    (roster / TEAMS).unlink()
    (roster / ROLES).unlink()  # optional: no error
    report = await run(sessions, roster, clock)
    assert [e for e in report.errors if not e.startswith((VOLS, "pairings.csv"))] == [
        f"找不到队伍名单：{roster} 里没有（如 teams.csv、队伍.xlsx），数据库里也还没有"
    ]
    assert counts(report)["org_units"] == (19, 0, 0)


async def test_bom_blank_lines_and_multiline_cells_keep_physical_line_numbers(
    sessions: Sessions, clock: FixedClock, tmp_path: Path
) -> None:
    (tmp_path / ORG).write_bytes(
        "\ufeffcode,name,level,parent_code\r\n"
        'LN,"辽宁省\r\n（全省）",province,\r\n'
        "\r\n"
        "CY,朝阳市,town,LN\r\n".encode("utf-8")
    )
    report = await run(sessions, tmp_path, clock)
    assert "org_units.csv 第5行：层级“town”看不懂（填 省/市/中心/所/站/点，或 province/city/center/institute/station/point）" \
        in report.errors


async def test_a_file_in_no_known_encoding_is_refused(sessions: Sessions, clock: FixedClock, tmp_path: Path) -> None:
    # Neither UTF-8 nor GB18030 can decode 0x81 0x20 (a lead byte followed by a space).
    (tmp_path / ORG).write_bytes("code,name,level,parent_code\n".encode() + b"LN,\x81 ,province,\n")
    report = await run(sessions, tmp_path, clock)
    assert report.errors[0].startswith("org_units.csv：第2行：无法识别的文字编码")
    assert await count(sessions, OrgUnit) == 0


def test_cell_parsers() -> None:
    for raw, value in [("1", True), ("0", False), ("TRUE", True), ("false", False), ("是", True),
                       ("否", False), ("Yes", True), ("no", False), ("", False), (" 是 ", True)]:
        assert parse_party(raw) is value
    for raw in ("139 0000 0001", "139-0000-0001", "+86 13900000001", "8613900000001", "１３９００００００01"):
        assert parse_phone(raw) == "13900000001"
    assert parse_level("站") == "station" and parse_level("Center") == "center"


# ---------------------------------------------------------------- paths and moves


async def test_moving_units_rewrites_their_subtree_paths(sessions: Sessions, clock: FixedClock, tmp_path: Path) -> None:
    roster = demo_copy(tmp_path)
    await run(sessions, roster, clock)
    # 城关街道 moves from 北票 to 东港, with its stations and its point; 北山村 skips a level.
    edit(roster, ORG, "BP-CG,城关街道新时代文明实践所,institute,BP", "BP-CG,城关街道新时代文明实践所,institute,DG")
    edit(roster, ORG, "BP-TJ-BS,北山村新时代文明实践站,station,BP-TJ", "BP-TJ-BS,北山村新时代文明实践站,station,BP")
    report = await run(sessions, roster, clock)
    assert report.ok and counts(report)["org_units"] == (0, 2, 17)

    bp, dg, cg, pl, dj, bs = [await unit(sessions, c) for c in ("BP", "DG", "BP-CG", "BP-CG-PL", "BP-CG-PL-DJ", "BP-TJ-BS")]
    assert cg.path == f"{dg.path}{cg.id}/"
    assert dj.path == f"{dg.path}{cg.id}/{pl.id}/{dj.id}/"
    assert bs.path == f"{bp.path}{bs.id}/"
    async with sessions() as s:
        under_dg = set((await s.execute(select(OrgUnit.code).where(in_subtree(OrgUnit.path, dg.path)))).scalars())
        under_bp = set((await s.execute(select(OrgUnit.code).where(in_subtree(OrgUnit.path, bp.path)))).scalars())
        all_units = (await s.execute(select(OrgUnit))).scalars().all()
    assert under_dg == {"DG", "DG-HTK", "DG-HTK-YJ", "BP-CG", "BP-CG-PL", "BP-CG-PL-DJ", "BP-CG-NS", "BP-CG-HP"}
    assert "BP-CG-PL" not in under_bp and "BP-TJ-BS" in under_bp
    by_id = {u.id: u for u in all_units}
    for u in all_units:  # every path is its parent's path plus its own id
        assert u.path == (by_id[u.parent_id].path if u.parent_id else "/") + f"{u.id}/"


async def test_a_level_change_may_not_put_a_unit_below_its_children(
    sessions: Sessions, clock: FixedClock, tmp_path: Path
) -> None:
    await run(sessions, DEMO, clock)
    (tmp_path / ORG).write_text("code,name,level,parent_code\nBP-CG,城关街道,station,BP\n", encoding="utf-8")
    report = await run(sessions, tmp_path, clock)
    assert any(e.startswith("org_units.csv 第2行：改成站后会不高于已有的下级") for e in report.errors)
    assert (await unit(sessions, "BP-CG")).level == "institute"


# ---------------------------------------------------------------- XLSX


def write_xlsx(path: Path, rows: list[list[Any]]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)


def csv_rows(kind: str) -> list[list[Any]]:
    import csv

    with (DEMO / f"{kind}.csv").open(encoding="utf-8") as f:
        rows: list[list[Any]] = list(csv.reader(f))
    # Spreadsheets hold phone numbers as numbers; the importer must read them back as text.
    header = rows[0]
    if "phone" in header:
        i = header.index("phone")
        for row in rows[1:]:
            row[i] = int(row[i])
    return rows


async def test_xlsx_files_import_like_csv(sessions: Sessions, clock: FixedClock, tmp_path: Path) -> None:
    for kind in FILES:
        write_xlsx(tmp_path / f"{kind}.xlsx", csv_rows(kind))
    report = await run(sessions, tmp_path, clock)
    assert report.ok, report.summary()
    assert report.files["teams"] == "teams.xlsx"
    assert counts(report)["volunteers"] == (33, 0, 0) and counts(report)["roles"] == (18, 0, 0)
    assert (await person(sessions, "13900000021")).name == "姜兆彤"
    # The same roster as CSV afterwards changes nothing.
    again = await run(sessions, DEMO, clock)
    assert all(c.created == c.updated == 0 for c in again.counts.values())


async def test_xlsx_errors_name_the_row(sessions: Sessions, clock: FixedClock, tmp_path: Path) -> None:
    write_xlsx(tmp_path / "org_units.xlsx", [
        ["code", "name", "level", "parent_code"],
        ["LN", "辽宁省", "province", None],
        [None, None, None, None],
        ["CY", "朝阳市", "city", "NOPE"],
    ])
    report = await run(sessions, tmp_path, clock)
    assert "org_units.xlsx 第4行：上级编码“NOPE”：没有这个单位（组织名单和数据库里都没有）" in report.errors
    assert await count(sessions, OrgUnit) == 0


async def test_csv_wins_over_xlsx(sessions: Sessions, clock: FixedClock, tmp_path: Path) -> None:
    roster = demo_copy(tmp_path)
    write_xlsx(roster / "org_units.xlsx", [["code", "name", "level", "parent_code"], ["LN", "x", "bogus", None]])
    report = await run(sessions, roster, clock)
    assert report.ok and report.files["org_units"] == "org_units.csv"


# ---------------------------------------------------------------- xinfeng grant


async def test_grant_role(sessions: Sessions, session: AsyncSession, clock: FixedClock) -> None:
    await run(sessions, DEMO, clock)

    message = await grant_role(session=session, phone="139 0000 0002", role="admin", scope_code="BP-DB", now=clock.now())
    assert message == "刘玉芬 (13900000002) is now admin (所长) of 大板镇新时代文明实践所 [BP-DB]."
    again = await grant_role(session=session, phone="13900000002", role="admin", scope_code="BP-DB", now=clock.now())
    assert "already" in again
    captain = await grant_role(session=session, phone="13900000022", role="captain", scope_code="DG-CMD", now=clock.now())
    assert "队长" in captain and "东港市草莓科技服务队" in captain
    await session.commit()

    liu = await person(sessions, "13900000002")
    assert await count(sessions, RoleGrant, RoleGrant.person_id == liu.id, RoleGrant.role == "admin") == 1
    async with sessions() as s:
        grants = (await s.execute(select(AuditEntry).where(
            AuditEntry.action == "grant", AuditEntry.target_id == liu.id).order_by(AuditEntry.id))).scalars().all()
    assert [g.detail["already"] for g in grants] == [False, True]


@pytest.mark.parametrize(("phone", "role", "scope", "reason"), [
    ("12345", "admin", "BP", "手机号“12345”不对"),
    ("13900000999", "admin", "BP", "没有手机号为 13900000999 的人"),
    ("13900000002", "boss", "BP", "角色“boss”看不懂"),
    ("13900000002", "captain", "BP", "队长的范围要填队伍编码，“BP”是单位"),
    ("13900000002", "captain", "NOPE", "队长的范围要填队伍编码，“NOPE”不是队伍编码"),
    ("13900000002", "admin", "BP-KJD", "管理员的范围要填单位编码，“BP-KJD”是队伍"),
    ("13900000002", "admin", "NOPE", "“NOPE”不是单位编码"),
    ("13900000002", "first_secretary", "BP", "驻村第一书记只能管站，这里填的是中心"),
    ("13900000002", "shopkeeper", "BP-CG", "爱心超市店长只能管站/点，这里填的是所"),
])
async def test_grant_role_refuses_bad_input(
    sessions: Sessions, session: AsyncSession, clock: FixedClock, phone: str, role: str, scope: str, reason: str
) -> None:
    await run(sessions, DEMO, clock)
    with pytest.raises(ValueError, match=reason):
        await grant_role(session=session, phone=phone, role=role, scope_code=scope, now=clock.now())
    await session.rollback()
    assert await count(sessions, RoleGrant) == 18
