"""Finding the roster sheets to import and reading each as rows of named columns.

A county hands over a directory (or a workbook, or files named by flag). Each CSV file and each
sheet of each workbook is taken for the roster its name says (志愿者名单.xlsx, sheet 队伍,
teams.csv) or, when the name says nothing, the roster its header row fits; anything else (a
notes sheet, a pivot table) is skipped and listed. The header row may sit below title rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from storage.roster.columns import (
    FILES,
    KIND_ZH,
    REQUIRED_COLUMNS,
    HeaderMatch,
    describe,
    kind_by_name,
)
from storage.roster.reading import (
    HEADER_SEARCH_ROWS,
    Row,
    SheetError,
    Source,
    best_partial,
    clean,
    csv_records,
    detect_encoding,
    find_header,
    xlsx_records,
    xlsx_sheets,
    xlsx_size,
)

SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")


@dataclass
class Sheet:
    """One roster sheet: where it is, which kind, where its header is; rows are read on demand."""

    kind: str
    source: Source
    encoding: str | None = None
    header_line: int = 0
    match: HeaderMatch | None = None
    header_width: int = 0
    errors: list[str] = field(default_factory=list)  # about the whole sheet: nothing of it is read

    @property
    def name(self) -> str:
        """How messages name the sheet."""
        return self.source.name

    def records(self) -> Iterator[tuple[int, list[str], int]]:
        """(line, cells, position) for every record of the sheet, header and titles included."""
        if self.source.sheet is not None:
            return xlsx_records(self.source.path, self.source.sheet)
        return csv_records(self.source.path, self.encoding or "utf-8")

    def size(self) -> int | None:
        """The size `rows` positions count up to: bytes of a CSV, rows of a sheet."""
        if self.source.sheet is not None:
            return xlsx_size(self.source.path, self.source.sheet)
        return self.source.path.stat().st_size

    def rows(self) -> Iterator[tuple[Row, int]]:
        """(row, position) for each non-blank data row; a row with stray values carries an error."""
        assert self.match is not None
        positions = self.match.positions
        for line, cells, position in self.records():
            if line <= self.header_line:
                continue
            cells = [clean(c) for c in cells]
            if not any(cells):
                continue  # blank lines between blocks are common in hand-kept sheets
            values = {key: (cells[i] if i < len(cells) else "") for key, i in positions.items()}
            error = ""
            if self.source.sheet is None and len(cells) > self.header_width and any(cells[self.header_width:]):
                error = f"有 {len(cells)} 个值，但表头只有 {self.header_width} 列（含逗号的内容请加英文双引号）"
            yield Row(line, values, error), position


def open_sheet(source: Source, kind: str | None) -> Sheet | None:
    """Read a sheet's first rows: its kind (given, or found from the header) and header row.

    None when no kind was given and the header fits none (not a roster sheet).
    """
    sheet = Sheet(kind=kind or "", source=source)
    try:
        if source.sheet is None:
            sheet.encoding = detect_encoding(source.path)
        head = []
        for line, cells, _ in sheet.records():
            head.append((line, cells))
            if len(head) >= HEADER_SEARCH_ROWS:
                break
    except SheetError as exc:
        if kind is None:
            kind = kind_by_name(source.path.name)
        if kind is None:
            return None
        sheet.kind = kind
        sheet.errors.append(f"{source.name}：{exc}")
        return sheet
    found = find_header(head, (kind,) if kind else FILES)
    if found is None:
        if kind is None:
            return None
        if not any(any(clean(c) for c in cells) for _, cells in head):
            sheet.errors.append(f"{source.name}：是空的，没有表头行（应有 {describe(kind, REQUIRED_COLUMNS[kind])}）")
            return sheet
        index, partial = best_partial(head, kind)
        problem = (f"表头里重复的列：{describe(kind, partial.repeated)}" if not partial.missing
                   else f"缺少列：{describe(kind, partial.missing)}")
        seen = "、".join(c for c in (clean(x) for x in head[index][1]) if c)
        sheet.errors.append(f"{source.name} 第{head[index][0]}行：{problem}（这一行是：{seen or '空'}）")
        return sheet
    index, match = found
    sheet.kind, sheet.match, sheet.header_line = match.kind, match, head[index][0]
    sheet.header_width = len(head[index][1])
    while sheet.header_width and not clean(head[index][1][sheet.header_width - 1]):
        sheet.header_width -= 1
    return sheet


@dataclass
class Found:
    """The sheets found for an import, by kind, and what was left aside."""

    sheets: dict[str, Sheet] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sheets that are no roster


def sources_in(path: Path) -> list[Source]:
    """Every sheet in a directory (its files, not sub-directories) or in one file."""
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    out: list[Source] = []
    for file in files:
        if file.name.startswith(("~$", ".")):
            continue  # Excel's lock files, hidden files
        if file.suffix.lower() in (".xlsx", ".xlsm"):
            try:
                names = xlsx_sheets(file)
                out.extend(Source(file, name, len(names) > 1) for name in names)
            except SheetError:
                out.append(Source(file, ""))  # reported when opened
        elif file.suffix.lower() in (".csv", ".tsv", ".txt", ".xls"):
            out.append(Source(file))  # an .xls is refused when opened: no reader for Excel 97 here
    return out


def find_sheets(paths: list[Path], chosen: dict[str, Path]) -> Found:
    """The sheet for each kind: named by flag (`chosen`), else found in `paths` by name or header."""
    found = Found()
    for kind, path in chosen.items():
        sheet = _flagged(path, kind, found)
        if sheet is not None:
            found.sheets[kind] = sheet
    candidates: dict[str, list[Sheet]] = {}
    for path in paths:
        for source in sources_in(path):
            if source.sheet == "":
                found.errors.append(f"{source.path.name}：不是可读的 XLSX 工作簿")
                continue
            if source.path.suffix.lower() == ".xls":
                found.errors.append(f"{source.path.name}：不支持旧的 .xls 格式，请在 Excel 里另存为 .xlsx")
                continue
            named = kind_by_name(source.sheet or source.path.name)
            if named is None and source.sheet is not None and not source.several:
                named = kind_by_name(source.path.name)  # a one-sheet workbook goes by its file name
            if named in chosen:
                continue
            sheet = open_sheet(source, named)
            if sheet is None or sheet.kind in chosen:
                if sheet is None:
                    found.skipped.append(source.name)
                continue
            candidates.setdefault(sheet.kind, []).append(sheet)
    for kind, sheets in candidates.items():
        sheets = _prefer_csv(sheets)
        if len(sheets) > 1:
            names = "、".join(s.name for s in sheets)
            found.errors.append(f"{names}：都像是{KIND_ZH[kind]}名单，只能导入一个"
                                f"（用 --{kind.replace('_', '-')} 文件 指定）")
            continue
        found.sheets[kind] = sheets[0]
    return found


def _prefer_csv(sheets: list[Sheet]) -> list[Sheet]:
    # teams.csv beside teams.xlsx: the CSV is the one kept up to date (the import's old rule).
    stems = {s.source.path.stem for s in sheets if s.source.sheet is None}
    return [s for s in sheets if s.source.sheet is None or s.source.path.stem not in stems]


def _flagged(path: Path, kind: str, found: Found) -> Sheet | None:
    if not path.is_file():
        found.errors.append(f"{path}：找不到文件（--{kind.replace('_', '-')}）")
        return None
    if path.suffix.lower() == ".xls":
        found.errors.append(f"{path.name}：不支持旧的 .xls 格式，请在 Excel 里另存为 .xlsx")
        return None
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return open_sheet(Source(path), kind)
    try:
        names = xlsx_sheets(path)
    except SheetError as exc:
        found.errors.append(f"{path.name}：{exc}")
        return None
    # The sheet named for the kind, else the one whose header fits it, else the first.
    by_name = [n for n in names if kind_by_name(n) == kind]
    several = len(names) > 1
    for name in by_name + [n for n in names if n not in by_name]:
        sheet = open_sheet(Source(path, name, several), None if name not in by_name else kind)
        if sheet is not None and sheet.kind == kind and (name in by_name or not sheet.errors):
            return sheet
    return open_sheet(Source(path, names[0], several), kind)
