"""`xinfeng import DIR`, `xinfeng grant PHONE ROLE SCOPE` and `xinfeng demo`: the network by hand (PRODUCT.md §9)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.settings import Settings

DEMO_DIR = Path(__file__).resolve().parents[1] / "demo"


def add_commands(sub: Any) -> None:
    """Register `import`, `grant` and `demo` on the main parser."""
    imp = sub.add_parser("import", help="import a network from CSV/XLSX files (PRODUCT.md §9)")
    imp.add_argument("directory", type=Path)
    imp.set_defaults(run=import_network)
    grant = sub.add_parser("grant", help="grant a role: xinfeng grant PHONE ROLE SCOPE_CODE")
    grant.add_argument("phone")
    grant.add_argument("role")
    grant.add_argument("scope_code", nargs="?", default="")
    grant.set_defaults(run=grant_role)
    sub.add_parser("demo", help="load the demo county (北票市, 东港市) from the seed article").set_defaults(run=demo)


async def import_network(settings: Settings, args: argparse.Namespace) -> int:
    """Import the files in a directory; 1 if any row was refused."""
    return await _import(settings, args.directory)


async def demo(settings: Settings, args: argparse.Namespace) -> int:
    """Load the demo county and give it its moral activity day."""
    return await _import(settings, DEMO_DIR, seed_demo=True)


async def _import(settings: Settings, directory: Path, seed_demo: bool = False) -> int:
    from bot.runtime import build_runtime, migrate
    from storage.roster.importing import import_directory

    if not directory.is_dir():
        print(f"找不到目录：{directory}", file=sys.stderr)
        return 2
    await migrate(settings)
    rt = await build_runtime(settings)
    try:
        report = await import_directory(session_factory=rt.sessions, directory=directory, now=rt.clock.now())
        if seed_demo and report.ok:
            from bot.cli.jobs import seed_demo_schedules

            for line in await seed_demo_schedules(rt.sessions, rt.clock.now()):
                print(f"已设置：{line}")
    finally:
        await rt.close()
    print(report.summary())
    for error in report.errors:
        print(error, file=sys.stderr)
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
