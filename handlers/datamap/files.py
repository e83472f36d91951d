"""Spreadsheet files from export rows: CSV (UTF-8 with a BOM, so Excel shows Chinese) and XLSX.

Rows arrive as an async stream and are written as they come: an XLSX is built with
openpyxl's write-only mode, a CSV straight into the output.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

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
        writer.writerow(row)
        count += 1
    return count, False


def _sheet_title(title: str) -> str:
    return _SHEET_FORBIDDEN.sub("_", title)[:31] or "Sheet1"


async def write_xlsx(rows: AsyncIterator[list[Any]], headers: list[str], out: IO[bytes] | str, *, title: str,
                     limit: int | None = None) -> tuple[int, bool]:
    """Write an XLSX workbook (one sheet, bold frozen header) to a file or binary stream."""
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
        sheet.append(row)
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
