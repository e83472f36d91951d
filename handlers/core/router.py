"""Explicit routing: each feature module owns a `Router`; the app includes them in order.

A command is matched by its name at the start of the normalised text ("接单 #12",
"接单#12", "/accept 12"); the longest name wins, so "取消报名" never runs "取消".
Commands that take no arguments must match the whole text, so "我的爸爸血压高" is a
request, not "我的".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.core.context import Context


class _NotMine:
    """What a command handler returns when the text only looks like its command."""

    def __repr__(self) -> str:
        return "NOT_MINE"


# A villager's "活动室漏水了" starts like the captain's "活动" command: the command handler, seeing
# it is no command, returns NOT_MINE and the text goes to the free-text handler (the task intake)
# instead — so no feature needs to reach up to the intake itself.
NOT_MINE = _NotMine()

Handler = Callable[[Context, str], Awaitable[object]]
StateHandler = Callable[[Context, str, dict], Awaitable[bool]]


@dataclass(frozen=True)
class Command:
    """One command name bound to a handler; `args` tells whether text may follow."""

    name: str
    handler: Handler
    args: bool


class Router:
    """The commands, conversation-state handlers and free-text fallback of one feature."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: list[Command] = []
        self.state_handlers: dict[str, StateHandler] = {}
        self.fallback: Handler | None = None

    def command(self, *names: str, args: bool = True) -> Callable[[Handler], Handler]:
        """Register a handler under one or more command names (Chinese and latin aliases)."""

        def decorate(fn: Handler) -> Handler:
            for name in names:
                self.commands.append(Command(name, fn, args))
            return fn

        return decorate

    def on_state(self, awaiting: str) -> Callable[[StateHandler], StateHandler]:
        """Register a handler for replies while a conversation awaits `awaiting`."""

        def decorate(fn: StateHandler) -> StateHandler:
            self.state_handlers[awaiting] = fn
            return fn

        return decorate

    def on_text(self, fn: Handler) -> Handler:
        """Register the handler for free text that is no command."""
        self.fallback = fn
        return fn


class Dispatcher:
    """All routers, in order; finds the one handler for a message."""

    def __init__(self, *routers: Router) -> None:
        self.routers = list(routers)
        self._commands = sorted(
            (c for r in routers for c in r.commands), key=lambda c: len(c.name), reverse=True
        )
        self._states: dict[str, StateHandler] = {}
        for r in routers:
            for key, fn in r.state_handlers.items():
                if key in self._states:
                    raise ValueError(f"two routers handle state {key!r}")
                self._states[key] = fn
        fallbacks = [r.fallback for r in routers if r.fallback is not None]
        self._fallback = fallbacks[0] if fallbacks else None

    def match(self, text: str) -> tuple[Command, str] | None:
        """Find the command a text starts with, and the rest of the text."""
        head = text
        if head.startswith("/"):
            # Telegram appends the bot's name in groups: "/accept@xinfeng_bot 12".
            first, _, rest = head.partition(" ")
            head = first.split("@", 1)[0] + (" " + rest if rest else "")
        lowered = head.lower()
        for cmd in self._commands:
            name = cmd.name.lower()
            if not lowered.startswith(name):
                continue
            rest = head[len(cmd.name):].strip()
            if not cmd.args and rest:
                continue
            if cmd.name.startswith("/") and rest and not head[len(cmd.name)].isspace():
                continue  # "/doneX" is not "/done"
            return cmd, rest
        return None

    async def dispatch(self, ctx: Context, text: str) -> bool:
        """Run the handler for this message; False when nothing claimed it."""
        pending = await ctx.state.get(ctx.state_key)
        if pending and pending.get("awaiting") in self._states:
            if await self._states[pending["awaiting"]](ctx, text, pending):
                return True
        found = self.match(text)
        if found is not None:
            cmd, rest = found
            if await cmd.handler(ctx, rest) is not NOT_MINE:
                return True
        if self._fallback is not None:
            await self._fallback(ctx, text)
            return True
        return False
