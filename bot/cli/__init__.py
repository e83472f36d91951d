"""The `xinfeng` command: run the bot, chat in a terminal, migrate, import, demo, parse."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import Settings

DEMO_DIR = Path(__file__).resolve().parents[1] / "demo"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xinfeng", description="新风 Xinfeng — 志愿服务网络机器人")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run every configured channel (the console when no chat token is set)")
    sub.add_parser("chat", help="chat with the bot in this terminal (reads a pipe too)")
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"])
    imp = sub.add_parser("import", help="import a network from CSV/XLSX files (PRODUCT.md §9)")
    imp.add_argument("directory", type=Path)
    grant = sub.add_parser("grant", help="grant a role: xinfeng grant PHONE ROLE SCOPE_CODE")
    grant.add_argument("phone")
    grant.add_argument("role")
    grant.add_argument("scope_code", nargs="?", default="")
    sub.add_parser("demo", help="load the demo county (北票市, 东港市) from the seed article")
    sub.add_parser("parse", help="parse requests, one per line on stdin, into JSON lines")
    from bot.cli.jobs import add_commands

    add_commands(sub)
    from bot.cli.datamap import add_commands as add_datamap_commands

    add_datamap_commands(sub)
    from bot.cli.wechat import add_commands as add_wechat_commands

    add_wechat_commands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "parse":
        return _parse(settings)
    if args.command == "grant":
        return asyncio.run(_grant(settings, args.phone, args.role, args.scope_code))
    if args.command == "db":
        from storage.migrate import upgrade

        upgrade(settings.database_url)
        print("数据库已是最新结构。")
        return 0
    if args.command == "import":
        return asyncio.run(_import(settings, args.directory))
    if args.command == "demo":
        return asyncio.run(_import(settings, DEMO_DIR, seed_demo=True))
    if args.command in ("export", "stats", "dashboard"):
        from bot.cli.datamap import run_command as run_datamap_command

        return asyncio.run(run_datamap_command(settings, args))
    if args.command in ("jobs", "schedule"):
        from bot.cli.jobs import run_command

        return asyncio.run(run_command(settings, args))
    if args.command in ("wechat", "wecom"):
        from bot.cli.wechat import run_command as run_wechat_command

        return asyncio.run(run_wechat_command(settings, args))
    if args.command == "chat":
        return asyncio.run(_chat(settings))
    if args.command == "run":
        return asyncio.run(_run(settings))
    return 2


def _parse(settings: Settings) -> int:
    from datetime import datetime

    from handlers.language.request_parser import parse_request

    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        parsed = parse_request(text, datetime.now(settings.tz))
        print(json.dumps(parsed.to_json_dict(), ensure_ascii=False), flush=True)
    return 0


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


async def _grant(settings: Settings, phone: str, role: str, scope: str) -> int:
    from bot.runtime import build_runtime, migrate
    from storage.roster.importing import grant_role

    await migrate(settings)
    rt = await build_runtime(settings)
    try:
        async with rt.sessions() as session:
            try:
                message = await grant_role(session=session, phone=phone, role=role, scope_code=scope, now=rt.clock.now())
            except ValueError as exc:
                print(f"未授权：{exc}", file=sys.stderr)
                return 1
            await session.commit()
    finally:
        await rt.close()
    print(message)
    return 0


async def _run(settings: Settings) -> int:
    from bot.runtime import build_runtime, migrate
    from bot.service import Kick, configured_channels, serve

    await migrate(settings)
    rt = await build_runtime(settings)
    try:
        kick = Kick()
        channels = configured_channels(settings, rt, kick=kick)
        if channels:
            await serve(settings, rt, channels, kick)
            return 0
    finally:
        await rt.close()
    print("（没有配置聊天平台的令牌，打开控制台聊天。）")
    return await _chat(settings)


async def _chat(settings: Settings) -> int:
    from bot.channels.console import ConsoleSession, stdin_lines
    from bot.runtime import build_runtime, migrate, network_is_empty
    from storage.roster.importing import import_directory

    await migrate(settings)
    rt = await build_runtime(settings)
    try:
        if await network_is_empty(rt.sessions):
            report = await import_directory(session_factory=rt.sessions, directory=DEMO_DIR, now=rt.clock.now())
            print(f"（数据库是空的，已载入演示县：{report.summary()}；名单见 bot/demo/README.md）")
            from bot.cli.jobs import seed_demo_schedules

            await seed_demo_schedules(rt.sessions, rt.clock.now())
        from handlers.language.request_parser import warm_up
        from scheduler.ticker import start_ticking, stop_ticking

        await asyncio.to_thread(warm_up)
        console = ConsoleSession(rt.engine, rt.sessions, rt.clock, echo=not sys.stdin.isatty())
        # Escalations and auto-confirmations fall due while you chat, as in production.
        ticker = start_ticking(rt.sessions, rt.clock, after_tick=console.relay.deliver_pending, tz=settings.tz)
        try:
            await console.run(stdin_lines())
        finally:
            await stop_ticking(ticker)
    finally:
        await rt.close()
    return 0

