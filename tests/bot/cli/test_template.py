"""`xinfeng template DIR`: empty sheets with Chinese headers and the English keys, which import once filled in."""

from __future__ import annotations

import csv
from argparse import Namespace
from pathlib import Path

from openpyxl import load_workbook

from bot.cli.template import NOTES, WORKBOOK, write_templates
from storage.models import OrgUnit, Person
from storage.roster.columns import COLUMNS, FILES, KIND_ZH
from storage.roster.importing import import_roster


def test_template_writes_every_sheet_in_both_header_languages(tmp_path: Path, capsys) -> None:
    assert write_templates(None, Namespace(directory=tmp_path / "模板")) == 0
    book = load_workbook(tmp_path / "模板" / WORKBOOK)
    assert book.sheetnames == [KIND_ZH[k] for k in FILES] + [NOTES]
    volunteers = book["志愿者"]
    header = [c.value for c in volunteers[1]]
    assert header == ["姓名", "手机号", "单位编码", "队伍编码", "技能", "是否党员"]
    assert volunteers["B1"].comment.text.startswith("phone（必填）") and volunteers["B1"].font.bold
    assert not volunteers["E1"].font.bold  # 技能 is optional
    notes = [[c.value for c in row] for row in book[NOTES].iter_rows()]
    assert notes[0] == ["名单", "列名", "英文列名", "必填", "说明", "示例"]
    assert ["志愿者", "手机号", "phone", "是"] == notes[1 + len(COLUMNS["org_units"]) + len(COLUMNS["teams"]) + 1][:4]
    assert len(notes) == 1 + sum(len(c) for c in COLUMNS.values())
    for kind in FILES:
        with (tmp_path / "模板" / "csv" / f"{KIND_ZH[kind]}.csv").open(encoding="utf-8-sig") as f:
            assert next(csv.reader(f)) == [c.label for c in COLUMNS[kind]]
    assert "已写入" in capsys.readouterr().out


async def test_a_filled_template_imports(sessions, clock, tmp_path: Path) -> None:
    write_templates(None, Namespace(directory=tmp_path))
    path = tmp_path / WORKBOOK
    book = load_workbook(path)
    book["组织"].append(["XC", "新城县新时代文明实践中心", "中心", None, "0421-1234567", "211399"])
    book["组织"].append(["XC-1", "一村新时代文明实践站", "站", "XC", None, None])
    book["队伍"].append(["XC-D", "一村志愿服务队", "XC-1", "生活帮扶", None, None])
    book["志愿者"].append(["李四", "13900000401", "XC-1", "XC-D", "修电器", "是"])
    book["居民"].append(["王五", None, "一村新时代文明实践站"])
    book.save(path)
    report = await import_roster(session_factory=sessions, paths=[path], chosen={}, now=clock.now())
    assert report.ok, report.errors
    assert {k: c.created for k, c in report.counts.items()} == {
        "org_units": 2, "teams": 1, "volunteers": 1, "residents": 1, "roles": 0, "pairings": 0, "goods": 0,
        "points_rules": 0}
    assert report.skipped == [f"{WORKBOOK}[{NOTES}]"]
    async with sessions() as s:
        xc = await s.get(OrgUnit, 1)
        li = await s.get(Person, 1)
    assert (xc.code, xc.duty_phone, xc.division_code) == ("XC", "0421-1234567", "211399")
    assert li.name == "李四" and li.party_member
