"""Spreadsheet files from export rows: CSV (UTF-8 with a BOM, so Excel shows Chinese) and XLSX.

Rows arrive as an async stream and are written as they come: an XLSX is built with
openpyxl's write-only mode, a CSV straight into the output.

Exports are data, never formulas (docs/roles.md): a villager's message or an imported name
that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would run as a formula when a
spreadsheet program opens the file (`=HYPERLINK("http://evil.example/…")`). Every such text cell
gets a leading single quote, as OWASP advises for CSV injection, in both formats — and an XLSX
text cell is written as text, so openpyxl never stores it as a formula. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import date
from typing import IO, Any

# The days an export may cover: a county's records start this century, and a year like 1900 or
# 9999 is a typo (9999-12-31 is also one day short of overflowing every date computation).
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)

BOM = "\ufeff"
MIME = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


async def write_csv(rows: AsyncIterator[list[Any]], headers: list[str], out: IO[str], *, bom: bool,
                    limit: int | None = None) -> tuple[int, bool]:
    """Write a CSV to a text stream; returns (rows written, whether `limit` cut it short)."""
    if bom:
        out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    count = 0
    async for row in rows:
        if limit is not None and count >= limit:
            return count, True
        writer.writerow([neutralise(v) for v in row])
        count += 1
    return count, False


# What a spreadsheet program reads as the start of a formula (or as a cell break before one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A cell as data: text that a spreadsheet would run as a formula gets a leading quote; other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def sane_period(start: date, end: date) -> bool:
    """Whether a period is one an export may cover: in order, and within `EARLIEST_DAY`…`LATEST_DAY`."""
    return EARLIEST_DAY <= start <= end <= LATEST_DAY


def _sheet_title(title: str) -> str:
    return _SHEET_FORBIDDEN.sub("_", title)[:31] or "Sheet1"


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    """An XLSX cell: text neutralised and typed as text (openpyxl stores any "=…" string as a formula)."""
    if not isinstance(value, str):
        return value
    from openpyxl.cell import WriteOnlyCell  # loaded by write_xlsx already: a dictionary look-up here

    cell = WriteOnlyCell(sheet, value=neutralise(value))
    cell.data_type = "s"
    return cell


async def write_xlsx(rows: AsyncIterator[list[Any]], headers: list[str], out: IO[bytes] | str, *, title: str,
                     limit: int | None = None) -> tuple[int, bool]:
    """Write an XLSX workbook (one sheet, bold frozen header) to a file or binary stream."""
    # openpyxl (and the numpy and PIL it pulls in) costs ~0.2 s and ~20 MiB at import: loaded by
    # the first spreadsheet, not by every start of the bot.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(title))
    sheet.freeze_panes = "A2"
    for i, header in enumerate(headers):
        # Chinese characters are about two Latin ones wide.
        sheet.column_dimensions[get_column_letter(i + 1)].width = max(10, 2 * len(header) + 4)
    bold = Font(bold=True)
    head = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    count, cut = 0, False
    async for row in rows:
        if limit is not None and count >= limit:
            cut = True
            break
        sheet.append([_xlsx_cell(sheet, v) for v in row])
        count += 1
    book.save(out)
    return count, cut


async def build_file(rows: AsyncIterator[list[Any]], headers: list[str], fmt: str, *, title: str,
                     limit: int | None = None) -> tuple[bytes, int, bool]:
    """The whole file in memory (for a chat attachment): (bytes, rows, cut short)."""
    if fmt == "csv":
        text = io.StringIO()
        count, cut = await write_csv(rows, headers, text, bom=True, limit=limit)
        return text.getvalue().encode("utf-8"), count, cut
    if fmt == "xlsx":
        buf = io.BytesIO()
        count, cut = await write_xlsx(rows, headers, buf, title=title, limit=limit)
        return buf.getvalue(), count, cut
    raise ValueError(f"unknown format {fmt!r}")
