"""`xinfeng template DIR`: empty roster sheets to fill in, with every column explained.

Writes `DIR/名单模板.xlsx` — one sheet per roster (组织, 队伍, 志愿者 …) with its Chinese header
row (required columns bold, each header's English key and meaning in a cell comment), and a
填写说明 sheet listing every column: its header, its English key, whether it is required, what
it holds and an example — and the same as CSV files in `DIR/csv/` (UTF-8 with a BOM, so Excel
shows the Chinese). Both import as they are once filled in: `xinfeng import DIR/名单模板.xlsx`.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

from storage.roster.columns import COLUMNS, FILES, KIND_ZH, OPTIONAL_FILES

WORKBOOK = "名单模板.xlsx"
NOTES = "填写说明"
NOTES_HEADER = ["名单", "列名", "英文列名", "必填", "说明", "示例"]


def add_commands(sub: Any) -> None:
    """Register `template` on the main parser."""
    p = sub.add_parser("template", help="write empty roster sheets (xlsx and csv) with both header languages")
    p.add_argument("directory", type=Path)
    p.set_defaults(run=write_templates)


def notes_rows() -> list[list[str]]:
    """One row per column of every roster file: what the 填写说明 sheet lists."""
    rows = []
    for kind in FILES:
        optional = "（可选名单）" if kind in OPTIONAL_FILES else ""
        for col in COLUMNS[kind]:
            also = "、".join(col.aliases[1:])
            meaning = col.meaning + (f"；也认：{also}" if also else "")
            rows.append([f"{KIND_ZH[kind]}{optional}", col.label, col.key, "是" if col.required else "否", meaning,
                         col.example])
    return rows


def write_templates(settings: Any, args: argparse.Namespace) -> int:
    """Write the workbook and the CSV files; 2 if DIR is a file."""
    directory: Path = args.directory
    if directory.exists() and not directory.is_dir():
        print(f"{directory} 是文件，不是目录。", file=sys.stderr)
        return 2
    (directory / "csv").mkdir(parents=True, exist_ok=True)
    _write_workbook(directory / WORKBOOK)
    for kind in FILES:
        with (directory / "csv" / f"{KIND_ZH[kind]}.csv").open("w", encoding="utf-8-sig", newline="") as out:
            csv.writer(out).writerow([c.label for c in COLUMNS[kind]])
    with (directory / "csv" / f"{NOTES}.csv").open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows([NOTES_HEADER, *notes_rows()])
    print(f"已写入 {directory / WORKBOOK}（{len(FILES)} 张名单和一张{NOTES}）和 {directory / 'csv'}/ 下的 CSV 文件。")
    print(f"填好后：xinfeng import {directory / WORKBOOK}")
    return 0


def _write_workbook(path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for kind in FILES:
        sheet = book.create_sheet(KIND_ZH[kind])
        for i, col in enumerate(COLUMNS[kind], start=1):
            cell = sheet.cell(row=1, column=i, value=col.label)
            cell.comment = Comment(f"{col.key}{'（必填）' if col.required else ''}：{col.meaning}", "xinfeng")
            if col.required:
                cell.font = bold
            # Codes and phones typed as text keep their leading zeros and digits.
            sheet.column_dimensions[get_column_letter(i)].width = max(12, 2 * len(col.label) + 6)
            sheet.column_dimensions[get_column_letter(i)].number_format = "@"
        sheet.freeze_panes = "A2"
    notes = book.create_sheet(NOTES)
    for row in [NOTES_HEADER, *notes_rows()]:
        notes.append(row)
    for cell in notes[1]:
        cell.font = bold
    for letter, width in zip("ABCDEF", (14, 14, 16, 6, 60, 24)):
        notes.column_dimensions[letter].width = width
    book.save(path)
