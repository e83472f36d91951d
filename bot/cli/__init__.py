"""The `xinfeng` command: run the bot, chat in a terminal, migrate, import, demo, parse, and operate it.

Each command group is a module here that adds its sub-commands to the parser, each with
`set_defaults(run=...)`; `main` builds the parser from the groups and calls the chosen
command's `run(settings, args)` (a coroutine is run to completion). The groups import what
their commands need only when run, so a command starts without loading every other one.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
from collections.abc import Sequence

from bot.cli import core, datamap, db, intake, jobs, parse, roster, tasks, template, wechat
from bot.cli.roster import DEMO_DIR
from bot.logs import configure_logging
from bot.settings import Settings

__all__ = ["DEMO_DIR", "main"]

# In the order `xinfeng --help` lists their commands.
GROUPS = (core, db, roster, template, parse, intake, jobs, tasks, datamap, wechat)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xinfeng", description="新风 Xinfeng — 志愿服务网络机器人")
    sub = p.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_commands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings)
    outcome = args.run(settings, args)
    return asyncio.run(outcome) if inspect.iscoroutine(outcome) else outcome
