"""What the Official Account and WeCom channels share: numbered choices and the budgeted reply.

WeChat shows no buttons, so a message's buttons become "回复 1 接单 · 2 放弃" and the choices
are kept in the database; a bare "1" from the user, handled by any worker, becomes the
button's command text. A callback must be answered within 5 s: the message is handled
within a budget (about 3 s) and, if done, what it says to this user is the passive reply
(claimed from the outbox so the relay does not send it again); otherwise the answer is empty
at once and the relay delivers the replies when the handler finishes. The whole answer keeps
to the budget: a claim that would overrun it is undone, and those rows go by the relay too.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core.messages import Button, InboundMessage
from handlers.core.engine import Engine
from handlers.language.textnorm import normalize
from storage.clock import Clock
from storage.models import OutboxMessage
from storage.messaging.outbox import claim, mark_sent
from storage.messaging.wechat import PASSIVE, choice_for, group_chat_ids, save_choices, touch_identity, unsend_passive

log = logging.getLogger(__name__)

REPLY_BUDGET_SECONDS = 3.0
CHOICE_TTL = timedelta(hours=24)
# WeChat truncates passive text replies beyond about 2 KB; the rest goes by the relay.
PASSIVE_MAX_BYTES = 2000

_BARE_NUMBER = re.compile(r"\d{1,2}")


def numbered_text(text: str, buttons: Sequence[Button], start: int = 1) -> str:
    """The text with its buttons as numbered reply choices: "回复 1 接单 · 2 放弃"."""
    if not buttons:
        return text
    choices = " · ".join(f"{n} {b.label}" for n, b in enumerate(buttons, start))
    return f"{text}\n回复 {choices}"


def row_buttons(row: OutboxMessage) -> list[Button]:
    """An outbox row's buttons."""
    return [Button(b["label"], b["data"]) for b in row.buttons or []]


def bare_number(text: str) -> int | None:
    """The number a reply consists of ("1", "１", " 2 "), or None."""
    folded = normalize(text)
    return int(folded) if _BARE_NUMBER.fullmatch(folded) else None


async def remember_choices(
    session: AsyncSession, *, platform: str, chat_id: str, buttons: Sequence[Button], now: datetime
) -> None:
    """Keep what the numbers just shown in a chat stand for (nothing when there were none)."""
    if buttons:
        await save_choices(session, platform=platform, chat_id=chat_id, choices=[b.data for b in buttons], now=now)


class ReplyDesk:
    """Turns one verified callback into handled effects and, when in time, a passive reply."""

    def __init__(
        self,
        *,
        platform: str,
        engine: Engine,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        kick: Callable[[], object],
        budget: float = REPLY_BUDGET_SECONDS,
        track_window: bool = False,
    ) -> None:
        self.platform = platform
        self.engine = engine
        self.sessions = sessions
        self.clock = clock
        self.kick = kick
        self.budget = budget
        self.track_window = track_window
        self._background: set[asyncio.Future[Any]] = set()

    async def arrive(self, msg: InboundMessage) -> InboundMessage:
        """Map a bare number to the command of the button it stands for (numbers only: no query otherwise)."""
        number = bare_number(msg.text) if not msg.is_button else None
        if number is None:
            return msg
        async with self.sessions() as session:
            # A group's "回复 1 接单" is answered in the private chat with the app.
            chats = [msg.chat_id, *await group_chat_ids(session, platform=self.platform, user_id=msg.user_id)]
            data = await choice_for(session, platform=self.platform, chat_ids=chats, number=number,
                                    now=self.clock.now(), ttl=CHOICE_TTL)
            await session.commit()
        return msg if data is None else replace(msg, text=data, is_button=True)

    async def note_action(self, user_id: str) -> None:
        """Record a user action that carries no message (a menu link opened): it opens the window."""
        if not self.track_window:
            return
        async with self.sessions() as session:
            await touch_identity(session, platform=self.platform, user_id=user_id, now=self.clock.now())
            await session.commit()

    async def answer(self, msg: InboundMessage) -> str | None:
        """Handle within the budget; the passive reply text, or None to answer empty.

        Handling the message sets the account's `last_seen_at` in the same transaction: that is
        the user's last action, which opens their 48-hour window before any reply is owed.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.budget
        task = asyncio.ensure_future(self._process(msg))
        try:
            rows = await asyncio.wait_for(asyncio.shield(task), self.budget)
        except TimeoutError:
            # Too slow for WeChat (a busy database counts too): answer empty now, the relay
            # delivers when it is done.
            self._later(task)
            return None
        if rows is None:
            return None  # a retry of a callback already stored: it has had its effect
        self.kick()
        mine = [r for r in rows if r.platform == self.platform and r.address == msg.chat_id and r.id is not None]
        if not mine:
            return None
        claiming = asyncio.ensure_future(self._claim_passive(mine, msg.chat_id))
        try:
            text, _ = await asyncio.wait_for(asyncio.shield(claiming), max(0.0, deadline - loop.time()))
        except TimeoutError:
            # Claimed too late to be the answer: whatever it claims goes back to the relay.
            self._later(asyncio.ensure_future(self._unclaim_when_done(claiming)))
            return None
        return text

    async def _process(self, msg: InboundMessage) -> list[OutboxMessage] | None:
        return await self.engine.handle(await self.arrive(msg))

    def _later(self, task: asyncio.Future[Any]) -> None:
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("late %s work failed", self.platform, exc_info=task.exception())
        self.kick()

    async def _unclaim_when_done(self, claiming: asyncio.Future[tuple[str | None, list[int]]]) -> None:
        _, claimed = await claiming
        if claimed:
            async with self.sessions() as session:
                await unsend_passive(session, claimed)
                await session.commit()

    async def _claim_passive(self, mine: list[OutboxMessage], address: str) -> tuple[str | None, list[int]]:
        """Claim this user's rows (in order, within the size limit); their text as one reply, and their ids."""
        parts: list[str] = []
        shown: list[Button] = []
        claimed: list[int] = []
        size = 0
        now = self.clock.now()
        async with self.sessions() as session:
            for row in mine:
                buttons = row_buttons(row)
                part = numbered_text(row.text, buttons, start=len(shown) + 1)
                size += len(part.encode()) + 2
                if parts and size > PASSIVE_MAX_BYTES:
                    break
                # The relay may have taken it already; then it goes out as a message instead.
                if not await claim(session, row.id, now=now):
                    continue
                await mark_sent(session, row.id, now=now, external_message_id=PASSIVE)
                parts.append(part)
                shown += buttons
                claimed.append(row.id)
            await remember_choices(session, platform=self.platform, chat_id=address, buttons=shown, now=now)
            await session.commit()
        return ("\n\n".join(parts) if parts else None), claimed

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for handlers that outlived their budget (tests, shutdown), at most `timeout` s."""
        if self._background:
            await asyncio.wait(list(self._background), timeout=timeout)
