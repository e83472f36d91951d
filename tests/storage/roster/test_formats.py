"""The sheets counties keep (issue 13): GBK, title rows, Chinese headers, workbooks found by name or header."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import select

from storage.clock import FixedClock
from storage.models import OrgUnit, Person, Team, TeamMember
from storage.roster.importing import ImportReport, import_roster

DEMO = Path(__file__).resolve().parents[3] / "bot" / "demo"

# A county's own volunteers sheet: a title row, Chinese headers, a unit given by name, 政治面貌.
COUNTY_CSV = (
    "北票市新时代文明实践志愿者名单（2026年12月）\r\n"
    "序号,姓名,手机号码,所属站点,所属队伍,特长,政治面貌\r\n"
    "1,周大勇,139 0000 0301,蓬莱社区新时代文明实践站,BP-CG-PL-D,水电维修、理发,中共党员\r\n"
    "2,吴小红,13900000302,BP-CG-NS,,唱歌,群众\r\n"
)


async def run(sessions: Any, clock: FixedClock, *paths: Path, **chosen: Path) -> ImportReport:
    return await import_roster(session_factory=sessions, paths=list(paths), chosen=chosen, now=clock.now())


async def person(sessions: Any, phone: str) -> Person:
    async with sessions() as s:
        return (await s.execute(select(Person).where(Person.phone == phone))).scalar_one()


async def unit_id(sessions: Any, code: str) -> int:
    async with sessions() as s:
        return (await s.execute(select(OrgUnit.id).where(OrgUnit.code == code))).scalar_one()


def xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


async def test_a_gbk_csv_with_a_title_row_and_chinese_headers_imports(sessions, clock, tmp_path: Path) -> None:
    assert (await run(sessions, clock, DEMO)).ok
    sheet = tmp_path / "志愿者.csv"
    sheet.write_bytes(COUNTY_CSV.encode("gbk"))  # what Excel saves on a Chinese Windows
    report = await run(sessions, clock, volunteers=sheet)
    assert report.ok, report.errors
    assert report.counts["volunteers"].created == 2 and report.files == {"volunteers": "志愿者.csv"}
    zhou = await person(sessions, "13900000301")
    assert zhou.name == "周大勇" and zhou.party_member and zhou.skills == "|水电维修|理发|"
    assert zhou.org_unit_id == await unit_id(sessions, "BP-CG-PL")
    wu = await person(sessions, "13900000302")
    assert not wu.party_member and wu.org_unit_id == await unit_id(sessions, "BP-CG-NS")
    async with sessions() as s:
        teams = (await s.execute(select(Team.code).join(TeamMember, TeamMember.team_id == Team.id)
                                 .where(TeamMember.person_id == zhou.id))).scalars().all()
    assert teams == ["BP-CG-PL-D"]
    again = await run(sessions, clock, volunteers=sheet)
    assert (again.counts["volunteers"].created, again.counts["volunteers"].unchanged) == (0, 2)


async def test_utf16_tab_separated_text_imports(sessions, clock, tmp_path: Path) -> None:
    assert (await run(sessions, clock, DEMO)).ok
    (tmp_path / "volunteers.txt").write_bytes(COUNTY_CSV.replace(",", "\t").encode("utf-16"))  # "Unicode 文本"
    report = await run(sessions, clock, tmp_path)
    assert report.ok, report.errors
    assert report.counts["volunteers"].created == 2


async def test_a_workbook_named_for_its_roster_is_found_in_the_directory(sessions, clock, tmp_path: Path) -> None:
    assert (await run(sessions, clock, DEMO)).ok
    xlsx(tmp_path / "志愿者名单.xlsx", {"Sheet1": [
        ["东港市志愿者名单"],
        [],
        ["姓名", "手机号", "所属单位", "队伍", "是否党员", "备注"],
        ["姜兆彤", 13900000021, "DG", "东港市草莓科技服务队", "是", "草莓专家"],  # a phone as a number, a team by name
        ["于海", 13900000303.0, "杨家村新时代文明实践站", None, None, None],
    ]})
    (tmp_path / "说明.txt").write_text("这个目录里是东港市的志愿者名单。\n", encoding="utf-8")
    report = await run(sessions, clock, tmp_path)
    assert report.ok, report.errors
    assert report.files == {"volunteers": "志愿者名单.xlsx"} and report.skipped == ["说明.txt"]
    assert (report.counts["volunteers"].created, report.counts["volunteers"].unchanged) == (1, 1)
    assert (await person(sessions, "13900000303")).org_unit_id == await unit_id(sessions, "DG-HTK-YJ")
    # The sheet has no 技能 column: 姜兆彤 keeps the skills an earlier import gave her.
    assert (await person(sessions, "13900000021")).skills == "|草莓种植|植物病害防治|"


async def test_sheets_of_one_workbook_by_name_and_by_header(sessions, clock, tmp_path: Path) -> None:
    book = xlsx(tmp_path / "东港市名单.xlsx", {
        "组织架构": [["单位编码", "单位名称", "层级", "上级编码", "值班电话", "行政区划代码"],
                 ["DG", "东港市新时代文明实践中心", "县", None, "0415 7123301", 210681],
                 ["DG-HTK", "黄土坎镇新时代文明实践所", "乡镇", "DG", None, None]],
        "服务队": [["队伍编码", "队伍名称", "所属单位", "服务类别"], ["DG-CMD", "东港市草莓科技服务队", "DG", "农业技术、其他"]],
        # A sheet whose name says nothing: its header says it lists volunteers.
        "Sheet3": [["姓名", "手机号", "单位编码", "队伍编码"], ["姜兆彤", "13900000021", "DG-HTK", "DG-CMD"]],
        "统计": [["乡镇", "人数"], ["黄土坎镇", 1]],
    })
    report = await run(sessions, clock, book)
    assert report.ok, report.errors
    assert report.files == {"org_units": "东港市名单.xlsx[组织架构]", "teams": "东港市名单.xlsx[服务队]",
                            "volunteers": "东港市名单.xlsx[Sheet3]"}
    assert report.skipped == ["东港市名单.xlsx[统计]"]
    async with sessions() as s:
        dg = (await s.execute(select(OrgUnit).where(OrgUnit.code == "DG"))).scalar_one()
        team = (await s.execute(select(Team).where(Team.code == "DG-CMD"))).scalar_one()
    assert (dg.level, dg.duty_phone, dg.division_code) == ("center", "0415-7123301", "210681")
    assert team.categories == "|农业技术|其他|"


async def test_flags_pick_a_sheet_of_a_workbook(sessions, clock, tmp_path: Path) -> None:
    assert (await run(sessions, clock, DEMO)).ok
    book = xlsx(tmp_path / "全部.xlsx", {
        "居民": [["姓名", "手机号", "所属村"], ["孙大妈", None, "BP-CG-HP"]],
        "志愿者": [["姓名", "手机号", "所属单位"], ["钱多多", "13900000304", "BP-CG-HP"]],
    })
    report = await run(sessions, clock, volunteers=book)
    assert report.ok and report.files == {"volunteers": "全部.xlsx[志愿者]"}
    assert (await person(sessions, "13900000304")).is_volunteer


async def test_a_row_with_several_problems_is_one_line_in_chinese(sessions, clock, tmp_path: Path) -> None:
    assert (await run(sessions, clock, DEMO)).ok
    (tmp_path / "volunteers.csv").write_text(
        "姓名,手机号,所属单位,队伍编码,是否党员\n"
        ",12345,NOPE,BP-KJD|NOPE,也许\n"
        "好人,13900000305,BP,,是\n"
        "好人二,13900000305,BP,,否\n", encoding="utf-8")
    report = await run(sessions, clock, tmp_path)
    assert report.errors == [
        "volunteers.csv 第2行：姓名是空的；手机号“12345”不对（应是 1 开头的 11 位数字）；"
        "所属单位“NOPE”：没有这个单位（组织名单和数据库里都没有）；队伍“NOPE”：没有这个队伍（队伍名单和数据库里都没有）；"
        "是否党员“也许”看不懂（填 是/否，或 中共党员/群众，也可留空）",
        "volunteers.csv 第4行：手机号“13900000305”与第3行重复",
    ]
    assert report.not_imported == ["volunteers.csv"] and report.bad_rows == {"volunteers.csv": 2}
    async with sessions() as s:
        assert (await s.execute(select(Person).where(Person.phone == "13900000305"))).first() is None


async def test_missing_columns_are_named_in_both_languages(sessions, clock, tmp_path: Path) -> None:
    (tmp_path / "志愿者.csv").write_text("名字,电话号\n张三,13900000306\n", encoding="utf-8")
    report = await run(sessions, clock, tmp_path)
    assert "志愿者.csv 第1行：缺少列：手机号（phone）、单位编码（org_code）（这一行是：名字、电话号）" in report.errors


async def test_two_sheets_of_one_kind_are_refused(sessions, clock, tmp_path: Path) -> None:
    for name in ("志愿者一.csv", "志愿者二.csv"):
        (tmp_path / name).write_text("姓名,手机号,单位编码\n", encoding="utf-8")
    report = await run(sessions, clock, tmp_path)
    assert any(e.startswith("志愿者一.csv、志愿者二.csv：都像是志愿者名单") for e in report.errors)


async def test_a_name_two_units_share_must_be_a_code(sessions, clock, tmp_path: Path) -> None:
    (tmp_path / "org_units.csv").write_text(
        "code,name,level,parent_code\nA,甲县中心,center,\nA1,新村站,station,A\nB,乙县中心,center,\nB1,新村站,station,B\n",
        encoding="utf-8")
    (tmp_path / "teams.csv").write_text("code,name,org_code,categories\nT,新村队,新村站,其他\n", encoding="utf-8")
    report = await run(sessions, clock, tmp_path)
    assert "teams.csv 第2行：所属单位“新村站”：有不止一个单位叫这个名字，请填编码" in report.errors


async def test_duty_phone_and_division_code_are_kept_by_a_sheet_without_them(sessions, clock, tmp_path: Path) -> None:
    assert (await run(sessions, clock, DEMO)).ok
    async with sessions() as s:
        bp = (await s.execute(select(OrgUnit).where(OrgUnit.code == "BP"))).scalar_one()
    assert (bp.duty_phone, bp.division_code) == ("0421-5822001", "211381")
    (tmp_path / "org_units.csv").write_text("code,name,level,parent_code\nBP,北票市新时代文明实践中心,center,CY\n",
                                            encoding="utf-8")
    report = await run(sessions, clock, tmp_path)
    assert report.counts["org_units"].unchanged == 1
    async with sessions() as s:
        bp = (await s.execute(select(OrgUnit).where(OrgUnit.code == "BP"))).scalar_one()
    assert (bp.duty_phone, bp.division_code) == ("0421-5822001", "211381")


async def test_a_sheet_failing_on_every_row_lists_the_first_rows(sessions, clock, tmp_path: Path) -> None:
    rows = "".join(f"某人{i},123,BP\n" for i in range(250))
    (tmp_path / "volunteers.csv").write_text("姓名,手机号,单位编码\n" + rows, encoding="utf-8")
    report = await run(sessions, clock, volunteers=tmp_path / "volunteers.csv")
    assert len(report.errors) == 201 and report.errors[-1] == "volunteers.csv：还有 50 行有错误，没有一一列出"
    assert report.bad_rows == {"volunteers.csv": 250}


class Recording:
    """A Progress that remembers every call."""

    enabled = True

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def start(self, label: str, total: int | None) -> None:
        self.calls.append(("start", (label, total)))

    def update(self, position: int) -> None:
        self.calls.append(("update", position))

    def finish(self) -> None:
        self.calls.append(("finish", None))


async def test_progress_is_told_each_stage(sessions, clock, tmp_path: Path) -> None:
    assert (await run(sessions, clock, DEMO)).ok
    sheet = tmp_path / "volunteers.csv"
    sheet.write_text("姓名,手机号,单位编码\n" + "".join(f"某人{i},137{i:08d},BP\n" for i in range(4500)),
                     encoding="utf-8")
    progress = Recording()
    report = await import_roster(session_factory=sessions, paths=[], chosen={"volunteers": sheet}, now=clock.now(),
                                 progress=progress)
    assert report.ok and report.counts["volunteers"].created == 4500
    starts = [args for kind, args in progress.calls if kind == "start"]
    assert starts == [("检查 volunteers.csv", sheet.stat().st_size), ("写入 volunteers.csv", 4500)]
    checking = progress.calls[1:progress.calls.index(("finish", None))]
    assert len(checking) == 4 and all(0 < pos <= sheet.stat().st_size for _, pos in checking)
    assert progress.calls[-3:] == [("update", 4000), ("update", 4500), ("finish", None)]


async def test_an_old_xls_workbook_is_refused_with_advice(sessions, clock, tmp_path: Path) -> None:
    (tmp_path / "志愿者名单.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # Excel 97's signature
    report = await run(sessions, clock, tmp_path)
    assert "志愿者名单.xls：不支持旧的 .xls 格式，请在 Excel 里另存为 .xlsx" in report.errors
