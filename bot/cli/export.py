"""`xinfeng export hours|tasks|volunteers|activities --region CODE --from DATE --to DATE --format csv|xlsx`.

The operator's export: whoever runs the command already holds the database, so phone numbers
are shown in full unless `--mask-phones` is given (a file meant to be passed on). CSV goes to
standard output when no `--output` is named (no BOM, for pipes); a CSV file gets a BOM so a
spreadsheet program opens its Chinese correctly; XLSX needs `--output` (or a redirected stdout).
Rows are streamed from the database into the file (an XLSX in openpyxl's write-only mode), with
a progress bar on a terminal. The volunteers export carries the roster's headers, so an edited
copy imports back with `xinfeng import --volunteers FILE`.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path
from collections.abc import AsyncIterator
from typing import Any

from bot.settings import Settings
from handlers.datamap.files import EARLIEST_DAY, LATEST_DAY, write_csv, write_xlsx
from storage.datamap.exports import HEADERS, KINDS, LOCAL, PhoneRule, export_rows, export_size
from storage.people.network import unit_by_code

KIND_ZH = {"hours": "工时", "tasks": "任务", "volunteers": "志愿者", "activities": "活动"}


def _date(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是日期：{text}（请写成 2026-11-01）") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise argparse.ArgumentTypeError(f"日期要在 {EARLIEST_DAY} 到 {LATEST_DAY} 之间：{text}")
    return day


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The export command's arguments."""
    p.add_argument("kind", choices=KINDS, help="what to export")
    p.add_argument("--region", required=True, help="org unit code, e.g. BP or DG-HTK-YJ")
    p.add_argument("--from", dest="date_from", type=_date, help="first day (default: the 1st of this month)")
    p.add_argument("--to", dest="date_to", type=_date, help="last day, inclusive (default: today)")
    p.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    p.add_argument("--output", type=Path, help="file to write (default: standard output)")
    p.add_argument("--mask-phones", action="store_true", help="mask every phone number (138****5678)")


async def run_export(settings: Settings, args: Any) -> int:
    """Write one export; 0 on success, 2 on a bad request."""
    from bot.cli.roster import TerminalProgress
    from bot.runtime import build_runtime, migrate

    today = datetime.now(LOCAL).date()
    date_to = args.date_to or today
    date_from = args.date_from or max(date_to.replace(day=1), EARLIEST_DAY)
    if date_from > date_to:
        print(f"开始日期 {date_from} 晚于结束日期 {date_to}。", file=sys.stderr)
        return 2
    if args.format == "xlsx" and args.output is None and sys.stdout.isatty():
        print("XLSX 是二进制文件，请用 --output 文件名 保存。", file=sys.stderr)
        return 2
    await migrate(settings)
    rt = await build_runtime(settings)
    progress = TerminalProgress()
    try:
        async with rt.sessions() as session:
            unit = await unit_by_code(session, args.region)
            if unit is None:
                print(f"没有编码为 {args.region} 的单位。", file=sys.stderr)
                return 2
            phones = PhoneRule(everything=not args.mask_phones)
            size = await export_size(session, args.kind, unit, date_from, date_to) if progress.enabled else None
            progress.start(f"导出{KIND_ZH[args.kind]}", size)
            rows = _counted(export_rows(session, args.kind, unit, date_from, date_to, phones), progress)
            headers = HEADERS[args.kind]
            title = f"{KIND_ZH[args.kind]} {date_from}~{date_to}"
            if args.format == "xlsx":
                target: Any = str(args.output) if args.output else sys.stdout.buffer
                count, _ = await write_xlsx(rows, headers, target, title=title)
            elif args.output is not None:
                with args.output.open("w", encoding="utf-8", newline="") as out:
                    count, _ = await write_csv(rows, headers, out, bom=True)
            else:
                count, _ = await write_csv(rows, headers, sys.stdout, bom=False)
                sys.stdout.flush()
            progress.finish()
    finally:
        progress.close()
        await rt.close()
    where = args.output or "标准输出"
    print(f"已导出 {unit.name} {date_from} 至 {date_to} 的{KIND_ZH[args.kind]} {count} 行到 {where}。", file=sys.stderr)
    return 0


async def _counted(rows: AsyncIterator[list[Any]], progress: Any) -> AsyncIterator[list[Any]]:
    """The rows, moving the progress bar every thousand."""
    count = 0
    async for row in rows:
        yield row
        count += 1
        if count % 1000 == 0:
            progress.update(count)
