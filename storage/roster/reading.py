"""Reading roster sheets as streams of rows: CSV in any encoding counties save, XLSX sheets.

A CSV may be UTF-8 (with or without BOM), GB18030/GBK (what Excel saves on a Chinese Windows)
or UTF-16 ("Unicode 文本", tab-separated); the encoding is found by decoding the whole file
strictly, in chunks, so a wrong guess can never garble a name. Rows are read lazily: a
province's volunteers are read twice (checked, then written) and never held in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from storage.roster.columns import HeaderMatch, match_header

HEADER_SEARCH_ROWS = 10  # title rows ("北票市志愿者名单（2026年）") may sit above the header
_CHUNK = 1 << 20
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)


class SheetError(ValueError):
    """A sheet that cannot be read at all; the message is Chinese and may start with a line."""


@dataclass(frozen=True)
class Source:
    """One sheet to import: a CSV file, or one sheet of a workbook."""

    path: Path
    sheet: str | None = None
    several: bool = False  # the workbook has other sheets: name the sheet too

    @property
    def name(self) -> str:
        """How errors name it: "志愿者名单.xlsx", or "名单.xlsx[志愿者]" in a workbook of several sheets."""
        return f"{self.path.name}[{self.sheet}]" if self.sheet and self.several else self.path.name


@dataclass(frozen=True)
class Row:
    """One data row: its line (CSV) or row number (XLSX) and its cells by column key."""

    line: int
    values: dict[str, str]
    error: str = ""  # what is wrong with the row as a whole (stray values)

    def get(self, column: str) -> str:
        """The cell's text, stripped; empty when the column is absent."""
        return self.values.get(column, "")


def clean(text: str) -> str:
    """A cell without invisible characters and surrounding spaces."""
    return text.translate(_INVISIBLE).strip()


def detect_encoding(path: Path) -> str:
    """The encoding a CSV decodes in without a single error, or a SheetError."""
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    failure = (0, 0)
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        lines, final = 1, False
        with path.open("rb") as f:
            try:
                while not final:
                    chunk = f.read(_CHUNK)
                    final = not chunk
                    decoder.decode(chunk, final=final)
                    lines += chunk.count(b"\n")
                return encoding
            except UnicodeDecodeError as exc:
                at = lines + chunk[: exc.start].count(b"\n")
                failure = max(failure, (at, 0))
    raise SheetError(f"第{failure[0]}行：无法识别的文字编码（不是 UTF-8，也不是 GBK/GB18030）。"
                     "请在 Excel 里“另存为 → CSV UTF-8（逗号分隔）”")


def _delimiter(sample: str) -> str:
    # Over the first lines, not the first one: a title row above the header has neither.
    lines = sample.splitlines()[:HEADER_SEARCH_ROWS]
    return "\t" if sum(line.count("\t") for line in lines) > sum(line.count(",") for line in lines) else ","


def csv_records(path: Path, encoding: str) -> Iterator[tuple[int, list[str], int]]:
    """(line, cells, bytes read so far) per CSV record; a quoted cell may span lines."""
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        delimiter = _delimiter(text.read(8192))
        text.seek(0)
        reader = csv.reader(text, delimiter=delimiter)
        end = 0
        try:
            for cells in reader:
                start, end = end + 1, reader.line_num
                yield start, cells, raw.tell()
        except csv.Error as exc:
            raise SheetError(f"第{reader.line_num}行：CSV 格式有误（{exc}）") from exc


def xlsx_sheets(path: Path) -> list[str]:
    """The sheet names of a workbook, or a SheetError."""
    book = _open_book(path)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _open_book(path: Path) -> Any:
    import openpyxl  # only XLSX imports pay for it

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file; all mean "can't read"
        raise SheetError(f"不是可读的 XLSX 工作簿（{exc.__class__.__name__}）") from exc


def xlsx_records(path: Path, sheet: str) -> Iterator[tuple[int, list[str], int]]:
    """(row number, cells, row number) per sheet row."""
    book = _open_book(path)
    try:
        for number, values in enumerate(book[sheet].iter_rows(values_only=True), start=1):
            yield number, [cell_text(v) for v in values], number
    finally:
        book.close()


def xlsx_size(path: Path, sheet: str) -> int | None:
    """The sheet's row count as the file declares it (None when it does not)."""
    book = _open_book(path)
    try:
        return book[sheet].max_row
    finally:
        book.close()


def cell_text(value: Any) -> str:
    """A spreadsheet cell as the text typed into it."""
    # Spreadsheets store phone numbers as numbers, often as floats; codes must read as typed.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def find_header(records: list[tuple[int, list[str]]], kinds: tuple[str, ...]) -> tuple[int, HeaderMatch] | None:
    """The first of the rows that reads as a header of one of `kinds`, and how: (index, match)."""
    for index, (_, cells) in enumerate(records[:HEADER_SEARCH_ROWS]):
        cells = [clean(c) for c in cells]
        fits = [m for m in (match_header(kind, cells) for kind in kinds) if m.fits]
        if fits:
            # The kind whose columns the row names most (volunteers over residents).
            return index, max(fits, key=lambda m: len(m.positions))
    return None


def best_partial(records: list[tuple[int, list[str]]], kind: str) -> tuple[int, HeaderMatch]:
    """The row that names most of `kind`'s columns (for saying which are missing)."""
    matches = [(i, match_header(kind, [clean(c) for c in cells])) for i, (_, cells) in
               enumerate(records[:HEADER_SEARCH_ROWS])]
    if not matches:
        return 0, match_header(kind, [])
    return max(matches, key=lambda im: (len(im[1].positions), -im[0]))
