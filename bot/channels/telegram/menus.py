"""Telegram's command menus: one for villagers, one for groups, and one per person who is more than a villager.

Telegram shows, in each chat, the commands set for the narrowest scope that covers it: the
chat's own (`BotCommandScopeChat`), else all private chats, else all group chats, else the
default. So:

- every private chat, and the default, shows the villager's six commands;
- every group chat shows the group commands (accepting, activities, binding the group);
- a volunteer's, captain's or admin's private chat gets a menu of its own, made of the sections
  for the roles they hold (an admin's first), ending with the villager's commands.

Whose chat is owed which menu is read from the roster (`storage.people.menus`), not announced
by the code that changes roles: `MenuKeeper` compares, at start and every `menu_interval`, the
menu each chat should have with the one it was given (a fingerprint in `chat_menus`), and sets
only the differences. So a person who joins a team, is granted a role from the CLI or an import,
links their account by phone, or loses a role gets the right menu within the interval, and no
handler needs to know Telegram has menus. A round whose roster did not move costs one query;
one that did reads the accounts a page at a time (a province's volunteers fit in no list).
Bot API calls go through the sender, under the bot's global rate limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Iterable, Sequence

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)

from bot.channels.base import Undelivered
from bot.channels.telegram.config import bot_commands
from bot.channels.telegram.send import TelegramSender
from handlers.core.engine import Engine
from handlers.core.router import Dispatcher
from storage.messaging.outcomes import RecipientGone, Refused
from storage.people.menus import (
    PAGE,
    MenuHolder,
    forget_menu,
    menu_holders,
    orphaned_menus,
    record_menu,
    role_kinds,
    roster_mark,
)

log = logging.getLogger(__name__)

PLATFORM = "telegram"
# Telegram's limits on one scope's menu.
MAX_COMMANDS = 100
MAX_DESCRIPTION = 256

# A round reads every account even when the roster looks unchanged after this many quiet rounds
# (an hour at the default interval): a grant's role edited in place leaves the mark as it was.
FULL_EVERY = 60
# Menus one worker sets per round at most (5 a second at the default interval, a sixth of the
# bot's 30/s): the first start over a big roster drains over hours instead of crowding out replies.
PER_ROUND = 300

# Each section lists latin command names (their first latin alias), most used first.
RESIDENT = ("order", "me", "cancel", "register", "contact", "help")
VOLUNTEER = ("accept", "done", "release", "activity", "signup", "cancel_signup", "checkin", "checkout",
             "points", "shop", "claim", "fulfil", "visit", "pairings", "mute", "unmute", "join", "stats",
             "moralday")
CAPTAIN = ("invite", "activity", "broadcast", "verify", "reschedule", "cancel_activity", "undo_noshow", "served",
           "stats")
ADMIN = ("dispatch", "order_for", "stats", "export", "dashboard", "invite", "activity", "broadcast", "verify",
         "wish", "confirmwish", "project", "pointsrule", "moralday")
FIRST_SECRETARY = ("wish", "confirmwish", "order_for")
FEDERATION = ("publishwish", "wish")
SHOPKEEPER = ("stock", "redeem")
GROUP = ("accept", "done", "release", "activity", "signup", "checkin", "broadcast", "bindgroup", "unbindgroup",
         "help")
# A private chat's sections in the order they are shown, by the role that earns each.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("admin", ADMIN), ("first_secretary", FIRST_SECRETARY), ("federation_admin", FEDERATION),
    ("shopkeeper", SHOPKEEPER), ("captain", CAPTAIN), ("volunteer", VOLUNTEER),
)


def menu_names(roles: Iterable[str]) -> list[str]:
    """The commands a private chat shows for these roles, in order, each once ("volunteer": a team member)."""
    held = set(roles)
    if "captain" in held:
        held.add("volunteer")  # a captain signs up, checks in and takes tasks like their members
    names: list[str] = []
    for role, section in SECTIONS:
        if role in held:
            names += section
    names += RESIDENT
    return list(dict.fromkeys(names))[:MAX_COMMANDS]


def fingerprint(commands: Sequence[BotCommand]) -> str:
    """A short digest of a menu: a chat is set again only when its digest changes."""
    spelled = "\n".join(f"{c.command} {c.description}" for c in commands)
    return hashlib.sha256(spelled.encode()).hexdigest()[:32]


class Menus:
    """The menus, described by the commands' Chinese names as the dispatcher registers them."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._described = {c.command: c.description[:MAX_DESCRIPTION] for c in bot_commands(dispatcher)}
        # A menu and its fingerprint per set of roles: few sets, many people (building BotCommands
        # for each of 100,000 holders every round took half a minute of CPU).
        self._by_roles: dict[frozenset[str], tuple[list[BotCommand] | None, str | None]] = {}

    def commands(self, names: Iterable[str]) -> list[BotCommand]:
        """BotCommands for these names; KeyError for a name no handler registers."""
        return [BotCommand(name, self._described[name]) for name in names][:MAX_COMMANDS]

    def for_roles(self, roles: Iterable[str]) -> list[BotCommand] | None:
        """A private chat's own menu for these roles; None when the villagers' menu is theirs."""
        names = menu_names(roles)
        return None if names == list(RESIDENT) else self.commands(names)

    def owed(self, roles: frozenset[str]) -> tuple[list[BotCommand] | None, str | None]:
        """A private chat's own menu for these roles and its fingerprint; (None, None) for the villagers' menu."""
        if roles not in self._by_roles:
            commands = self.for_roles(roles)
            self._by_roles[roles] = (commands, fingerprint(commands) if commands is not None else None)
        return self._by_roles[roles]

    def scopes(self) -> list[tuple[BotCommandScope, list[BotCommand]]]:
        """The platform-wide menus: (scope, commands)."""
        resident, group = self.commands(RESIDENT), self.commands(GROUP)
        return [(BotCommandScopeDefault(), resident), (BotCommandScopeAllPrivateChats(), resident),
                (BotCommandScopeAllGroupChats(), group)]


class MenuKeeper:
    """Publishes the platform-wide menus and keeps each person's own menu in step with their roles."""

    def __init__(self, bot: Bot, sender: TelegramSender, engine: Engine, *, interval: float = 60.0) -> None:
        self.bot = bot
        self.sender = sender
        self.menus = Menus(engine.dispatcher)
        self.interval = interval
        self._sessions = engine.sessions
        self._clock = engine.clock
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # The roster as the last finished round read it (`roster_mark`), and rounds skipped since.
        self._mark: tuple[int, ...] | None = None
        self._quiet = 0
        self.page = PAGE  # accounts read per query
        self.per_round = PER_ROUND

    async def publish(self) -> None:
        """Set the default, private-chat and group-chat menus (at start: a new release may change them)."""
        for scope, commands in self.menus.scopes():
            await self.bot.set_my_commands(commands, scope=scope)

    def start(self) -> None:
        """Bring people's menus in step now and every `interval`, in the background."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="telegram-menus")

    async def stop(self) -> None:
        """Stop keeping menus (a round under way is cut short; the next start finishes it)."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.reconcile()
            except Exception:  # the database or Telegram is away: the next round tries again
                log.exception("telegram menus: a round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)

    async def reconcile(self) -> int:
        """Set the menu of every chat whose roles changed since it was given one; how many were set.

        A round first asks the roster whether anything menus depend on moved (`roster_mark`, one
        query) and reads the accounts, page by page, only then — or every `FULL_EVERY` rounds,
        for an edit the mark cannot see. It sets at most `per_round` menus.
        """
        async with self._sessions() as session:
            mark = await roster_mark(session, PLATFORM)
        if mark == self._mark and self._quiet < FULL_EVERY:
            self._quiet += 1
            return 0
        done, after = 0, ""
        async with self._sessions() as session:
            roles = await role_kinds(session, PLATFORM)
        while True:
            async with self._sessions() as session:
                holders, cursor = await menu_holders(session, PLATFORM, roles, after=after, limit=self.page)
                if cursor is None:
                    holders += await orphaned_menus(session, PLATFORM)
            for holder in holders:
                set_now = await self._bring_in_step(holder)
                if set_now is None:
                    return done  # Telegram asks us to slow down or is unreachable: the next round goes on
                done += set_now
                if done >= self.per_round:
                    return done  # enough for one round: the next one goes on (the roster is read again)
            if cursor is None:
                break
            after = cursor
        self._mark, self._quiet = mark, 0  # only a finished round vouches for the roster it read
        return done

    async def _bring_in_step(self, holder: MenuHolder) -> int | None:
        """Set one chat's menu if it is not the one its roles call for: 1 if set, 0 if not owed, None to stop."""
        commands, wanted = self.menus.owed(holder.roles)
        if wanted == holder.given or not holder.chat_id.lstrip("-").isdigit():
            return 0
        if not await self._apply(holder, commands):
            return None
        async with self._sessions() as session:
            if wanted is None:
                await forget_menu(session, platform=PLATFORM, chat_id=holder.chat_id)
            else:
                await record_menu(session, platform=PLATFORM, chat_id=holder.chat_id, menu=wanted,
                                  now=self._clock.now())
            await session.commit()
        return 1

    async def _apply(self, holder: MenuHolder, commands: list[BotCommand] | None) -> bool:
        """Set (or, back to the villagers' menu, delete) one chat's menu; False to stop this round."""
        scope = BotCommandScopeChat(int(holder.chat_id))
        try:
            if commands is None:
                await self.sender.call(int(holder.chat_id), "edit",
                                       lambda chat: self.bot.delete_my_commands(scope=scope))
            else:
                await self.sender.call(int(holder.chat_id), "edit",
                                       lambda chat: self.bot.set_my_commands(commands, scope=scope))
        except Undelivered as exc:
            if not isinstance(exc.outcome, (RecipientGone, Refused)):
                log.info("telegram menus: %s, stopping this round", exc)  # throttled, or a network away
                return False
            # The chat is gone, or Telegram will never take this menu: recorded as done so that
            # it is not asked again every round (a new menu for it is tried afresh).
            log.warning("telegram menu for chat %s not set: %s", holder.chat_id, exc)
        return True
