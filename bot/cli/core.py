"""`xinfeng run` and `xinfeng chat`: the bot itself, on every configured channel or in this terminal."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.cli.roster import DEMO_DIR
from bot.settings import Settings


def add_commands(sub: Any) -> None:
    """Register `run` and `chat` on the main parser."""
    sub.add_parser("run", help="run every configured channel (the console when no chat token is set)").set_defaults(
        run=run)
    sub.add_parser("chat", help="chat with the bot in this terminal (reads a pipe too)").set_defaults(run=chat)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """Serve every configured channel; with none, chat in the terminal instead."""
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
    return await chat(settings, args)


async def chat(settings: Settings, args: argparse.Namespace) -> int:
    """Chat with the bot in this terminal, the demo county loaded into an empty database."""
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
        ticker = start_ticking(rt.sessions, rt.clock, after_tick=console.relay.deliver_pending, tz=settings.tz,
                              retention_days=settings.retention_days)
        try:
            await console.run(stdin_lines())
        finally:
            await stop_ticking(ticker)
    finally:
        await rt.close()
    return 0
