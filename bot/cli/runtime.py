"""Running a sub-command on the bot's runtime: the database migrated first, connections released after."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.runtime import Runtime

Command = Callable[["Runtime", argparse.Namespace], Awaitable[int]]


def with_runtime(command: Command) -> Callable[[Settings, argparse.Namespace], Awaitable[int]]:
    """Wrap a sub-command that works on the runtime into a `run(settings, args)`."""

    async def run(settings: Settings, args: argparse.Namespace) -> int:
        from bot.runtime import build_runtime, migrate

        await migrate(settings)
        rt = await build_runtime(settings)
        try:
            return await command(rt, args)
        finally:
            await rt.close()

    return run
