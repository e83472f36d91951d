"""`xinfeng import`, `xinfeng grant PHONE ROLE SCOPE` and `xinfeng demo`: the network by hand (docs/import.md).

`xinfeng import` takes directories or workbooks (sheets found by name or header) and files
named by kind (`--volunteers 志愿者名单.xlsx`). On a terminal it draws a progress bar per stage
(checking, then writing each sheet); elsewhere it stays quiet until the end. Then it prints
every error once (standard error, by file and line), one line per sheet and a total line.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import IO, Any

from bot.settings import Settings
from storage.roster.columns import FILES, KIND_ZH

DEMO_DIR = Path(__file__).resolve().parents[1] / "demo"


class TerminalProgress:
    """A rich progress bar on standard error, drawn only when it is a terminal."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        stream = stream or sys.stderr
        self.enabled = stream.isatty()
        self._bar: Any = None
        self._task: Any = None
        self._total: int | None = None
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            # Elapsed and remaining: a province's volunteers take minutes.
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                                 TimeElapsedColumn(), TextColumn("剩余"), TimeRemainingColumn(),
                                 console=Console(file=stream))

    def start(self, label: str, total: int | None) -> None:
        """Open a bar for a stage."""
        if not self.enabled:
            return
        if self._task is None:
            self._bar.start()
        self._total = total
        self._task = self._bar.add_task(label, total=total)

    def update(self, position: int) -> None:
        """Move the stage's bar."""
        if self.enabled and self._task is not None:
            self._bar.update(self._task, completed=position)

    def finish(self) -> None:
        """Fill the stage's bar."""
        if self.enabled and self._task is not None:
            self._bar.update(self._task, completed=self._total or 1, total=self._total or 1)

    def close(self) -> None:
        """Stop drawing."""
        if self.enabled and self._task is not None:
            self._bar.stop()
            self._task = None


def add_commands(sub: Any) -> None:
    """Register `import`, `grant` and `demo` on the main parser."""
    imp = sub.add_parser("import", help="import a network from CSV/XLSX sheets (docs/import.md)")
    imp.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                     help="directories or workbooks; each sheet is taken for the roster its name or header says")
    for kind in FILES:
        imp.add_argument(f"--{kind.replace('_', '-')}", dest=f"file_{kind}", type=Path, metavar="FILE",
                         help=f"the {kind} sheet ({KIND_ZH[kind]}): a CSV, or a workbook (its {KIND_ZH[kind]} sheet)")
    imp.set_defaults(run=import_network)
    grant = sub.add_parser("grant", help="grant a role: xinfeng grant PHONE ROLE SCOPE_CODE")
    grant.add_argument("phone")
    grant.add_argument("role")
    grant.add_argument("scope_code", nargs="?", default="")
    grant.set_defaults(run=grant_role)
    sub.add_parser("demo", help="load the demo county (北票市, 东港市) from the seed article").set_defaults(run=demo)


async def import_network(settings: Settings, args: argparse.Namespace) -> int:
    """Import the sheets named; 1 if any row was refused, 2 if nothing was named or found."""
    chosen = {kind: getattr(args, f"file_{kind}") for kind in FILES if getattr(args, f"file_{kind}", None)}
    if not args.paths and not chosen:
        print("请给出名单所在的目录或工作簿，或用 --volunteers 等指定文件（xinfeng import --help）。", file=sys.stderr)
        return 2
    for path in args.paths:
        if not path.exists():
            print(f"找不到目录或文件：{path}", file=sys.stderr)
            return 2
    return await _import(settings, list(args.paths), chosen)


async def demo(settings: Settings, args: argparse.Namespace) -> int:
    """Load the demo county and give it its moral activity day."""
    return await _import(settings, [DEMO_DIR], {}, seed_demo=True)


async def _import(settings: Settings, paths: list[Path], chosen: dict[str, Path], seed_demo: bool = False) -> int:
    from bot.runtime import build_runtime, migrate
    from storage.roster.importing import import_roster

    await migrate(settings)
    rt = await build_runtime(settings)
    progress = TerminalProgress()
    began = time.monotonic()
    try:
        report = await import_roster(session_factory=rt.sessions, paths=paths, chosen=chosen, now=rt.clock.now(),
                                     progress=progress)
        progress.close()
        if seed_demo and report.ok:
            from bot.cli.jobs import seed_demo_schedules

            for line in await seed_demo_schedules(rt.sessions, rt.clock.now()):
                print(f"已设置：{line}")
    finally:
        progress.close()
        await rt.close()
    for error in report.errors:
        print(error, file=sys.stderr)
    if report.summary():
        print(report.summary())
    print(report.total_line(time.monotonic() - began))
    return 0 if report.ok else 1


async def grant_role(settings: Settings, args: argparse.Namespace) -> int:
    """Grant a person (by phone) a role at a unit or team; 1 if refused."""
    from bot.runtime import build_runtime, migrate
    from storage.roster.importing import grant_role as grant

    await migrate(settings)
    rt = await build_runtime(settings)
    try:
        async with rt.sessions() as session:
            try:
                message = await grant(session=session, phone=args.phone, role=args.role, scope_code=args.scope_code,
                                      now=rt.clock.now())
            except ValueError as exc:
                print(f"未授权：{exc}", file=sys.stderr)
                return 1
            await session.commit()
    finally:
        await rt.close()
    print(message)
    return 0
