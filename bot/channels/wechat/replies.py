"""What the Official Account and WeCom channels share: numbered choices and the budgeted reply.

WeChat shows no buttons, so a message's buttons become "回复 1 接单 · 2 放弃"; what each number
stands for is remembered when the message is delivered (`Delivered.numbered`), and a bare "1"
from the user, handled by any worker, becomes the button's command text. A callback must be
answered within 5 s: the message is stored and handled through the channel kit within a
budget (about 3 s) and, if done, what it says to this user is the passive reply — claimed
through the one inline-delivery path, so the courier does not send it again; otherwise the
message is kept in the inbox, the answer is empty, and the replies go out when the handler
finishes. The whole answer keeps to the budget: a claim that would overrun it is undone, and
those rows go by the relay too.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.channels.base import ChannelKit
from handlers.core.engine import Handled
from handlers.core.messages import Button, InboundMessage
from handlers.language.textnorm import normalize
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

# `external_message_id` of an outbox row that went out as a callback's passive reply.
PASSIVE = "passive"
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


class ReplyDesk:
    """Turns one verified callback into handled effects and, when in time, a passive reply."""

    def __init__(self, *, kit: ChannelKit, budget: float = REPLY_BUDGET_SECONDS, track_window: bool = False) -> None:
        self.kit = kit
        self.platform = kit.platform
        self.budget = budget
        self.track_window = track_window
        self._background: set[asyncio.Future[Any]] = set()

    async def arrive(self, msg: InboundMessage) -> InboundMessage:
        """Map a bare number to the command of the button it stands for (numbers only: no query otherwise).

        Done before the message is stored: the number means what the user saw when they typed it.
        """
        number = bare_number(msg.text) if not msg.is_button else None
        if number is None:
            return msg
        # A group's "回复 1 接单" is answered in the private chat with the app.
        data = await self.kit.records.choice_for(chat_id=msg.chat_id, user_id=msg.user_id, number=number,
                                                 ttl=CHOICE_TTL)
        return msg if data is None else replace(msg, text=data, is_button=True)

    async def note_action(self, user_id: str) -> None:
        """Record a user action that carries no message (a menu link opened): it opens the window."""
        if self.track_window:
            await self.kit.records.user_acted(user_id)

    async def answer(self, msg: InboundMessage) -> str | None:
        """Handle within the budget; the passive reply text, or None to answer empty ("success").

        The message is handled in one transaction (its inbox row, its effects, its replies), and
        what it says to this user within the budget becomes the passive reply. When the budget
        runs out first, the message is kept in the inbox before the empty answer — the handling
        goes on and claims it, and should it fail, the message is retried until handled. It is
        kept before handling starts, so an answer never acknowledges a message the database does
        not hold. `Unavailable` (nothing
        could be kept) makes the caller answer 503, and WeChat sends the callback again.

        Handling the message sets the account's `last_seen_at` in the same transaction: that is
        the user's last action, which opens their 48-hour window before any reply is owed. The
        relay is kicked only once this answer has taken what it shows, so it does not race the
        passive reply for the same rows.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.budget
        answered = asyncio.Event()
        passive: list[int] = []

        async def after(_: Handled) -> list[int]:
            await answered.wait()
            return passive

        arrived = await self.arrive(msg)
        # Kept before it is handled — the one channel that stores an update in its own small
        # transaction: the answer must come within 5 s whatever the handler does, and on SQLite a
        # slow handler holds the one writer, so a message could not be kept once the budget ran out.
        await self.kit.keep(arrived)
        try:
            handling = self.kit.receive(arrived, after, kept=True)
            try:
                handled = await asyncio.wait_for(asyncio.shield(handling), max(0.0, deadline - loop.time()))
            except TimeoutError:
                # Too slow for WeChat (a busy database counts too): answer empty now; the message is
                # kept, the handling goes on and the replies go by customer-service messages.
                return None
            if handled is None:
                return None  # a retry of a callback already handled: it has had its effect
            mine = [r for r in handled.rows
                    if r.platform == self.platform and r.address == msg.chat_id and r.id is not None]
            if not mine:
                return None
            held = [r.id for r in handled.direct]
            claiming = asyncio.ensure_future(self._claim_passive(mine, msg.chat_id, held))
            try:
                text, claimed = await asyncio.wait_for(asyncio.shield(claiming), max(0.0, deadline - loop.time()))
            except TimeoutError:
                # Claimed too late to be the answer: whatever it claims goes back to the relay —
                # the rows this worker held too (the courier must not send them meanwhile).
                mine_held = [r.id for r in mine if r.id in held]
                passive.extend(mine_held)
                self._later(asyncio.ensure_future(self._unclaim_when_done(claiming, mine_held)))
                return None
            passive.extend(claimed)
            return text
        finally:
            answered.set()

    def _later(self, task: asyncio.Future[Any]) -> None:
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("late %s work failed", self.platform, exc_info=task.exception())
        self.kit.kick()

    async def _unclaim_when_done(self, claiming: asyncio.Future[tuple[str | None, list[int]]],
                                 held: list[int]) -> None:
        _, claimed = await claiming
        await self.kit.records.undo_inline(claimed, external_id=PASSIVE, held=held)

    async def _claim_passive(self, mine: list[OutboxMessage], address: str,
                             held: list[int] | None = None) -> tuple[str | None, list[int]]:
        """Claim this user's rows (in order, within the size limit); their text as one reply, and their ids."""
        fitting: list[OutboxMessage] = []
        size = shown = 0
        for row in mine:
            if row.attachments:  # a passive reply is text only: files (and what follows) go by the relay
                break
            buttons = row_buttons(row)
            size += len(numbered_text(row.text, buttons, start=shown + 1).encode()) + 2
            if fitting and size > PASSIVE_MAX_BYTES:
                break
            fitting.append(row)
            shown += len(buttons)
        # The relay may have taken some already; those go out as messages instead.
        claimed = await self.kit.records.deliver_inline([r.id for r in fitting], external_id=PASSIVE, numbered=True,
                                                        held=held or ())
        parts: list[str] = []
        shown = 0
        for row in claimed:
            buttons = row_buttons(row)
            parts.append(numbered_text(row.text, buttons, start=shown + 1))
            shown += len(buttons)
        return ("\n\n".join(parts) if parts else None), [r.id for r in claimed]

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for handlers that outlived their budget and late claims (tests, shutdown), at most `timeout` s."""
        await self.kit.drain(timeout)
        if self._background:
            await asyncio.wait(list(self._background), timeout=timeout)
