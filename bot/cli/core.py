"""`xinfeng run` and `xinfeng chat`: the bot itself, on every configured channel or in this terminal."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from bot.cli.roster import DEMO_DIR
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.runtime import Runtime


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
        print("（没有配置聊天平台的令牌，打开控制台聊天。）")
        # On the runtime just built: the database is migrated already (a second pass costs start-up time).
        return await _console(settings, rt)
    finally:
        await rt.close()


async def chat(settings: Settings, args: argparse.Namespace) -> int:
    """Chat with the bot in this terminal, the demo county loaded into an empty database."""
    from bot.runtime import build_runtime, migrate

    await migrate(settings)
    rt = await build_runtime(settings)
    try:
        return await _console(settings, rt)
    finally:
        await rt.close()


async def _console(settings: Settings, rt: Runtime) -> int:
    """The console chat on a migrated database: the demo county loaded when it is empty."""
    from bot.channels.base import parser_warmed
    from bot.channels.console import ConsoleSession, stdin_lines
    from bot.runtime import network_is_empty
    from scheduler.ticker import start_ticking, stop_ticking
    from storage.roster.importing import import_directory

    if await network_is_empty(rt.sessions):
        report = await import_directory(session_factory=rt.sessions, directory=DEMO_DIR, now=rt.clock.now())
        print(f"（数据库是空的，已载入演示县：{report.summary()}；名单见 bot/demo/README.md）")
        from bot.cli.jobs import seed_demo_schedules

        await seed_demo_schedules(rt.sessions, rt.clock.now())
    # The parser's warm-up silences jionlp's banner by swapping sys.stdout for a moment: the
    # console prints to the terminal we were given, whatever sys.stdout is then.
    out = sys.stdout
    # The language models load in a thread (a second or more) while the prompt waits for the first
    # line: the console's kit waits for them before the first message it handles. (Loading beside
    # the demo county's import made both slower: a few hundred statements each waiting for the GIL.)
    parser_warmed()
    console = ConsoleSession(rt.engine, rt.sessions, rt.clock, out=out, echo=not sys.stdin.isatty())
    # Escalations and auto-confirmations fall due while you chat, as in production.
    ticker = start_ticking(rt.sessions, rt.clock, after_tick=console.relay.deliver_pending, tz=settings.tz,
                          retention_days=settings.retention_days)
    try:
        await console.run(stdin_lines())
    finally:
        await stop_ticking(ticker)
    return 0
