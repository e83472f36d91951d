"""What the Official Account and WeCom channels share: numbered choices and the budgeted reply.

WeChat shows no buttons, so a message's buttons become "回复 1 接单 · 2 放弃"; what each number
stands for is remembered when the message is delivered (`Delivered.numbered`), and a bare "1"
from the user, handled by any worker, becomes the button's command text. A callback must be
answered within 5 s: the message is stored and handled through the channel kit within a
budget (about 3 s) and, if done, what it says to this user is the passive reply — recorded
as delivered through the one inline-delivery path in the handling transaction itself, so the
courier does not send it again; otherwise the message is kept in the inbox, the answer is
empty, and the replies go out when the handler finishes (what it had recorded for the answer
is handed back to the relay).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from bot.channels.base import ChannelKit
from handlers.core.engine import Handled, InlineAnswer
from handlers.core.messages import Button, InboundMessage
from handlers.language.textnorm import normalize
from storage.db import transient
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

# `external_message_id` of an outbox row that went out as a callback's passive reply.
PASSIVE = "passive"
REPLY_BUDGET_SECONDS = 3.0
CHOICE_TTL = timedelta(hours=24)
# WeChat truncates passive text replies beyond about 2 KB; the rest goes by the relay.
PASSIVE_MAX_BYTES = 2000
HAND_BACK_FIRST_WAIT = 0.05
HAND_BACK_LONGEST_WAIT = 2.0

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


def passive_part(rows: list[OutboxMessage]) -> list[OutboxMessage]:
    """The first of a user's replies that fit one passive reply: text only, within WeChat's size."""
    fitting: list[OutboxMessage] = []
    size = shown = 0
    for row in rows:
        if row.attachments:  # a passive reply is text only: files (and what follows) go by the relay
            break
        buttons = row_buttons(row)
        size += len(numbered_text(row.text, buttons, start=shown + 1).encode()) + 2
        if fitting and size > PASSIVE_MAX_BYTES:
            break
        fitting.append(row)
        shown += len(buttons)
    return fitting


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
        what it says to this user — as much as fits a passive reply — is recorded as delivered in
        that same transaction (`InlineAnswer`): one commit, where claiming it afterwards took a
        second one on the same writer. When the budget runs out first, the message is kept in
        the inbox before the empty answer — the handling goes on, and what it recorded for the
        answer that was never given is handed back to the relay (`undo_inline`); should the
        handling fail, the message is retried until handled. It is kept before handling starts,
        so an answer never acknowledges a message the database does not hold. `Unavailable`
        (nothing could be kept) makes the caller answer 503, and WeChat sends the callback again.

        Handling the message sets the account's `last_seen_at` in the same transaction: that is
        the user's last action, which opens their 48-hour window before any reply is owed. The
        courier gets this worker's other rows only once this answer is settled, so a
        customer-service message never overtakes the passive reply.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.budget
        answered = asyncio.Event()
        in_time: list[bool] = []

        async def after(handled: Handled) -> list[int]:
            await answered.wait()
            if handled.inline and not in_time:
                # Recorded as this answer, which went out empty: they go by the relay instead.
                await self._hand_back([r.id for r in handled.inline])
            return []

        arrived = await self.arrive(msg)
        # Kept before it is handled — the one channel that stores an update in its own small
        # transaction: the answer must come within 5 s whatever the handler does, and on SQLite a
        # slow handler holds the one writer, so a message could not be kept once the budget ran out.
        await self.kit.keep(arrived)
        try:
            inline = InlineAnswer(address=msg.chat_id, external_id=PASSIVE, choose=passive_part, numbered=True)
            handling = self.kit.receive(arrived, after, kept=True, inline=inline)
            try:
                handled = await asyncio.wait_for(asyncio.shield(handling), max(0.0, deadline - loop.time()))
            except TimeoutError:
                # Too slow for WeChat (a busy database counts too): answer empty now; the message is
                # kept, the handling goes on and the replies go by customer-service messages.
                return None
            if handled is None or handled.inline_for is not inline or not handled.inline:
                # A retry of a callback already handled (or being handled for an earlier try): it
                # has had its effect, and its replies are that try's to give.
                return None
            in_time.append(True)
            parts: list[str] = []
            shown = 0
            for row in handled.inline:
                buttons = row_buttons(row)
                parts.append(numbered_text(row.text, buttons, start=shown + 1))
                shown += len(buttons)
            return "\n\n".join(parts)
        finally:
            answered.set()

    async def _hand_back(self, row_ids: list[int]) -> None:
        """Give rows recorded for an answer that went out empty back to the relay — retried until it
        sticks while the database is away: until then they would look delivered and never go."""
        delay = HAND_BACK_FIRST_WAIT
        while True:
            try:
                await self.kit.records.undo_inline(row_ids, external_id=PASSIVE)
                return
            except Exception as exc:
                if not transient(exc):
                    raise
                log.warning("%s: handing %d late replies back failed (%r), retrying", self.platform, len(row_ids), exc)
                await asyncio.sleep(delay)
                delay = min(HAND_BACK_LONGEST_WAIT, delay * 2)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for handlers that outlived their budget (tests, shutdown), at most `timeout` s."""
        await self.kit.drain(timeout)
