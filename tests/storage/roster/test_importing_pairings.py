"""Importing pairings.csv, goods.csv and points_rules.csv: same checks and idempotency as the network files."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from storage.clock import FixedClock
from storage.models import OrgUnit, Person
from storage.models.pairings import Pairing
from storage.models.points import Goods, PointsRule
from storage.programmes.points import effective_rule
from storage.roster.files import FILES
from storage.roster.importing import ImportReport, import_directory

DEMO = Path(__file__).resolve().parents[3] / "bot" / "demo"


def roster(tmp_path: Path) -> Path:
    out = tmp_path / "roster"
    out.mkdir()
    for kind in FILES:
        shutil.copy(DEMO / f"{kind}.csv", out / f"{kind}.csv")
    return out


def write(directory: Path, filename: str, text: str) -> None:
    (directory / filename).write_text(text, encoding="utf-8")


async def run(sessions, directory: Path, clock: FixedClock) -> ImportReport:
    return await import_directory(session_factory=sessions, directory=directory, now=clock.now())


async def pairings(sessions) -> list[tuple[str, str, str | None, str]]:
    async with sessions() as s:
        rows = await s.execute(
            select(Person.name, Pairing.household_name, Pairing.household_phone, OrgUnit.code)
            .join(Person, Person.id == Pairing.volunteer_id).join(OrgUnit, OrgUnit.id == Pairing.org_unit_id)
            .order_by(Pairing.id))
        return [tuple(r) for r in rows]


async def test_demo_pairings_goods_and_rule(sessions, clock) -> None:
    report = await run(sessions, DEMO, clock)
    assert report.ok, report.summary()
    assert await pairings(sessions) == [
        ("罗桂英", "王大娘", "13900000901", "BP-CG-PL"),
        ("罗桂英", "孙奶奶", None, "BP-CG-PL"),
        ("韩冬梅", "张桂兰", "13900000905", "BP-CG-NS"),
        ("刘思远", "李大爷", "13900000902", "BP-TJ-DTJ"),
        ("孙立新", "周奶奶", None, "BP-TJ-DTJ"),
    ]
    async with sessions() as s:
        goods = (await s.execute(select(Goods.name, Goods.price, Goods.stock).order_by(Goods.id))).all()
        assert [tuple(g) for g in goods] == [("洗衣粉", 10, 20), ("食用油", 30, 5), ("毛巾", 4, 1)]
        pl = (await s.execute(select(OrgUnit).where(OrgUnit.code == "BP-CG-PL"))).scalar_one()
        cg = (await s.execute(select(OrgUnit).where(OrgUnit.code == "BP-CG"))).scalar_one()
        tj = (await s.execute(select(OrgUnit).where(OrgUnit.code == "BP-TJ-DTJ"))).scalar_one()
        assert await effective_rule(session=s, unit_id=pl.id) == (Decimal(2), cg.id)  # inherited from 城关街道
        assert await effective_rule(session=s, unit_id=tj.id) == (Decimal(1), None)


async def test_reimport_updates_and_never_duplicates(sessions, clock, tmp_path: Path) -> None:
    directory = roster(tmp_path)
    await run(sessions, directory, clock)
    again = await run(sessions, directory, clock)
    assert {k: (c.created, c.updated, c.unchanged) for k, c in again.counts.items()
            if k in ("pairings", "goods", "points_rules")} == {
        "pairings": (0, 0, 5), "goods": (0, 0, 3), "points_rules": (0, 0, 1)}

    write(directory, "pairings.csv", "volunteer_phone,household_name,household_phone,org_code\n"
                                     "139 0000 0020,王大娘,,BP-CG-PL\n"          # phone blanked: updated
                                     "13900000020,孙奶奶,,BP-CG-PL\n"            # unchanged
                                     "13900000019,赵爷爷,13900000999,BP-CG-PL\n")  # new
    write(directory, "goods.csv", "org_code,name,points,stock\nBP-CG-PL,毛巾,4,12\n")  # a stocktake
    write(directory, "points_rules.csv", "org_code,points_per_hour\nBP-CG,1.5\nBP-CG-PL,3\n")
    third = await run(sessions, directory, clock)
    assert third.ok, third.summary()
    assert {k: (c.created, c.updated, c.unchanged) for k, c in third.counts.items()
            if k in ("pairings", "goods", "points_rules")} == {
        "pairings": (1, 1, 1), "goods": (0, 1, 0), "points_rules": (1, 1, 0)}
    rows = await pairings(sessions)
    assert len(rows) == 6  # pairings left out of a later file are kept
    assert ("罗桂英", "王大娘", None, "BP-CG-PL") in rows and ("邓小军", "赵爷爷", "13900000999", "BP-CG-PL") in rows
    async with sessions() as s:
        assert (await s.execute(select(Goods.stock).where(Goods.name == "毛巾"))).scalar_one() == 12
        assert (await s.execute(select(func.count(Goods.id)))).scalar_one() == 3
        assert (await s.execute(select(func.count(PointsRule.id)))).scalar_one() == 2


async def test_bad_rows_are_reported_and_the_file_is_not_imported(sessions, clock, tmp_path: Path) -> None:
    directory = roster(tmp_path)
    write(directory, "pairings.csv", "volunteer_phone,household_name,household_phone,org_code\n"
                                     "13900000020,王大娘,13900000901,BP-CG-PL\n"
                                     "13911112222,王大娘,,BP-CG-PL\n"
                                     "13900000020,,,BP-CG-PL\n"
                                     "13900000020,孙奶奶,12345,BP-CG-PL\n"
                                     "13900000020,刘奶奶,,BP-CG\n"
                                     "13900000020,王大娘,,BP-CG-PL\n"
                                     "13900000020,钱奶奶,,NOWHERE\n")
    write(directory, "goods.csv", "org_code,name,points,stock\n"
                                  "BP-CG-PL,洗衣粉,0,20\nBP-CG-PL,肥皂,2.5,1\nBP-CG-PL,牙膏,3,-1\n"
                                  "BP-CG,毛巾,4,1\nBP-CG-PL,洗衣粉,10,20\n")
    write(directory, "points_rules.csv", "org_code,points_per_hour\nBP-CG,two\nBP,1\nBP,2\nBP-DB,-1\nDG,0.125\n")
    report = await run(sessions, directory, clock)
    assert [e for e in report.errors if e.startswith("pairings.csv")] == [
        "pairings.csv 第3行：手机号“13911112222”：没有这个人（志愿者名单、居民名单和数据库里都没有）",
        "pairings.csv 第4行：帮扶对象是空的",
        "pairings.csv 第5行：手机号“12345”不对（应是 1 开头的 11 位数字）",
        "pairings.csv 第6行：单位“BP-CG”是所；结对户要填站/点",
        "pairings.csv 第7行：同一结对与第2行重复",
        "pairings.csv 第8行：单位编码“NOWHERE”：没有这个单位（组织名单和数据库里都没有）",
    ]
    assert [e for e in report.errors if e.startswith("goods.csv")] == [
        "goods.csv 第2行：所需积分“0”应是 1 到 100000 的整数",
        "goods.csv 第3行：所需积分“2.5”应是 1 到 100000 的整数",
        "goods.csv 第4行：库存“-1”应是 0 到 100000 的整数",
        "goods.csv 第5行：单位“BP-CG”是所；爱心超市商品要填站/点",
        "goods.csv 第6行：商品“洗衣粉”与第2行重复",
    ]
    assert [e for e in report.errors if e.startswith("points_rules.csv")] == [
        "points_rules.csv 第2行：每小时积分“two”不是数字",
        "points_rules.csv 第4行：单位“BP”与第3行重复",
        "points_rules.csv 第5行：每小时积分“-1”应在 0 到 1000 之间，最多两位小数",
        "points_rules.csv 第6行：每小时积分“0.125”应在 0 到 1000 之间，最多两位小数",
    ]
    assert set(report.not_imported) == {"pairings.csv", "goods.csv", "points_rules.csv"}
    assert report.counts["volunteers"].created == 33  # the network files still import
    async with sessions() as s:
        for model in (Pairing, Goods, PointsRule):
            assert (await s.execute(select(func.count()).select_from(model))).scalar_one() == 0


async def test_a_pairing_whose_volunteer_is_in_a_refused_file_says_so(sessions, clock, tmp_path: Path) -> None:
    directory = roster(tmp_path)
    with (directory / "volunteers.csv").open("a", encoding="utf-8") as f:
        f.write("某人,12345,BP,,,\n")
    report = await run(sessions, directory, clock)
    assert "pairings.csv 第2行：手机号“13900000020”在 volunteers.csv 里，而那个文件有错误" in report.errors
    assert "pairings.csv" in report.not_imported and "goods.csv" not in report.not_imported


async def test_missing_columns_and_an_optional_household_phone_column(sessions, clock, tmp_path: Path) -> None:
    directory = roster(tmp_path)
    write(directory, "pairings.csv", "volunteer_phone,household_name,org_code\n13900000020,王大娘,BP-CG-PL\n")
    write(directory, "goods.csv", "org_code,name,points\nBP-CG-PL,毛巾,4\n")
    report = await run(sessions, directory, clock)
    assert report.errors == ["goods.csv 第1行：缺少列：库存（stock）（这一行是：org_code、name、points）"]
    assert await pairings(sessions) == [("罗桂英", "王大娘", None, "BP-CG-PL")]


async def test_pairings_from_xlsx(sessions, clock, tmp_path: Path) -> None:
    import openpyxl

    directory = roster(tmp_path)
    (directory / "pairings.csv").unlink()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["volunteer_phone", "household_name", "household_phone", "org_code"])
    sheet.append([13900000018, "张桂兰", 13900000905.0, "BP-CG-NS"])  # numbers, as spreadsheets store phones
    book.save(directory / "pairings.xlsx")
    report = await run(sessions, directory, clock)
    assert report.ok, report.summary()
    assert report.files["pairings"] == "pairings.xlsx"
    assert await pairings(sessions) == [("韩冬梅", "张桂兰", "13900000905", "BP-CG-NS")]
