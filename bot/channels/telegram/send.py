"""Sending to Telegram under its limits: every Bot API call paced, retried, and its outcome reported.

Each call first takes its slots from the rate limiter, all or none: the bot's global rate,
and for a new message 1 per second in that chat and 20 per minute in a group (edits count
toward the global rate only). A slot is held until Telegram's answer came back, so the limiter
counts each request at both ends of its journey and the rate Telegram sees stays at or under
the configured one whatever the jitter (`bot.delivery.ratelimit`). Two lanes share the global
budget: a reply to a person's own message may use all of it, anything else (notices,
broadcasts) leaves `REPLY_RESERVE` of it free, so replies go first while a broadcast drains.
Telegram should then never answer 429; if it does anyway (another process using the same
token), a short `retry_after` is waited out in place and a long one is reported as `Throttled`,
so the row (and its chat) is held back without counting a failure. Network failures are
retried with backoff; after `send_attempts` the row is `Postponed` when the request never got an
answer (our network: no attempt counted), a `TemporaryFailure` when Telegram answered 5xx. The user blocked the bot or the chat is gone:
`RecipientGone`; a group became a supergroup: `ChatMoved`; a request Telegram can never accept:
`Refused`. Nothing here writes to the database — the courier records the outcome.

Attachments follow the text: a chart by sendPhoto (up to 10 MB, else as a document), a file by
sendDocument (up to 50 MB, the Bot API's upload limit); a larger file becomes a one-time link to
the dashboard (`bot.dashboard.SentFileLinks`), or a note saying it cannot be sent here.
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup, InputFile, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.channels.base import Undelivered
from bot.dashboard import SentFileLinks, link_note
from bot.channels.records import ChannelRecords
from bot.channels.telegram.config import TelegramConfig, retry_seconds
from bot.channels.telegram.render import inline_keyboard, render, split_text, to_html
from bot.delivery.ratelimit import Limit, RateLimiter
from handlers.core.messages import Attachment, OutboundMessage
from storage.messaging.outcomes import (
    ChatMoved,
    Delivered,
    DeliveryOutcome,
    Postponed,
    RecipientGone,
    Refused,
    TemporaryFailure,
    Throttled,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleeper = Callable[[float], Awaitable[None]]

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# 429s waited out in place before the row goes back to the relay with a retry-after.
MAX_THROTTLED = 20
# A longer retry-after is not waited out in the lane: the relay holds the row back instead.
MAX_WAIT_IN_PLACE = 30.0
# The Bot API's upload limits: 10 MB for a photo, 50 MB for any other file.
PHOTO_LIMIT = 10 * 2**20
DOCUMENT_LIMIT = 50 * 2**20
# The share of the global budget bulk sends leave free for replies (at least one message a window).
REPLY_RESERVE = 0.08
# A request holds its slot until Telegram answers, at most this long (the client's timeouts).
HOLD = 45.0
# Errors that mean the recipient is gone for good, not that we asked wrongly.
_GONE = ("chat not found", "user not found", "bot was kicked", "bot was blocked", "user is deactivated",
         "peer_id_invalid", "group chat was deactivated", "bot can't initiate")


def answered_by_telegram(exc: Exception) -> bool:
    """Whether a network-class error is an answer from Telegram (a 5xx), not a request that never arrived."""
    if isinstance(exc, TimedOut):
        return False
    text = str(exc)
    return not text.startswith(("httpx.", "Unknown error in HTTP implementation"))


def is_gone(exc: Exception) -> bool:
    """Whether an error says the recipient can never be reached (blocked, kicked, deleted)."""
    text = str(exc).lower()
    return any(g in text for g in _GONE)


class TelegramSender:
    """Bot API calls for the channel: messages, edits and keyboard changes, paced and retried."""

    def __init__(
        self,
        bot: Bot,
        config: TelegramConfig,
        *,
        records: ChannelRecords,
        limiter: RateLimiter,
        sleep: Sleeper = asyncio.sleep,
        stats: Counter[str] | None = None,
        links: SentFileLinks | None = None,
    ) -> None:
        self.bot = bot
        self.links = links
        self.config = config
        self._records = records
        self._limiter = limiter
        self._sleep = sleep
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self._chat_done: dict[int, float] = {}

    def limits(self, chat_id: int, kind: str, lane: str = "bulk") -> list[Limit]:
        """The limits a call of `kind` ("message" or "edit") to this chat is subject to, in its lane.

        A reply may take the whole global budget; a bulk send only what leaves `REPLY_RESERVE` of it.
        """
        lim, bot = self.config.limits, self.config.bot_id
        limits = lim.global_limits(f"tg:{bot}:all")
        if lane != "reply":
            whole = limits[0]
            reserve = max(1, round(whole.limit * REPLY_RESERVE)) if whole.limit > 1 else 0
            limits[0] = Limit(whole.key, max(1, whole.limit - reserve), whole.period)
        if kind == "message":
            limits.append(Limit(f"tg:{bot}:chat:{chat_id}", 1, lim.chat_interval + lim.guard))
            if chat_id < 0:  # group and supergroup ids are negative
                limits.append(Limit(f"tg:{bot}:group:{chat_id}", lim.group_count, lim.group_period + lim.guard))
        return limits

    def backoff(self, attempt: int) -> float:
        """The wait before network retry number `attempt` (exponential, capped)."""
        return min(self.config.backoff_cap, self.config.backoff * 2 ** (attempt - 1))

    async def _after_last_in_chat(self, chat_id: int) -> None:
        # Telegram counts a chat's messages when they arrive. A slot taken a second after the
        # last one does not guarantee that if the last one travelled slowly; a second after
        # its answer came back does (it had arrived by then). Only this process's sends are
        # known here; other workers are kept apart by the shared limiter and its guard.
        done = self._chat_done.get(chat_id)
        if done is not None:
            wait = done + self.config.limits.chat_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)

    def _sent_in_chat(self, chat_id: int) -> None:
        now = time.monotonic()
        self._chat_done[chat_id] = now
        if len(self._chat_done) > 10_000:  # forget chats quiet for longer than the interval
            horizon = now - self.config.limits.chat_interval
            self._chat_done = {c: t for c, t in self._chat_done.items() if t > horizon}

    async def call(self, chat_id: int, kind: str, request: Callable[[int], Awaitable[T]], lane: str = "bulk") -> T:
        """One Bot API call under the rate limits, retried until it succeeds; `Undelivered` when it cannot."""
        failures = throttled = 0
        while True:
            if kind == "message":
                await self._after_last_in_chat(chat_id)
            slot = await self._limiter.acquire_all(self.limits(chat_id, kind, lane), hold=HOLD)
            try:
                result = await request(chat_id)
                if kind == "message":
                    self._sent_in_chat(chat_id)
                return result
            except RetryAfter as exc:
                self.stats["retry_after"] += 1
                throttled += 1
                wait = retry_seconds(exc)
                if throttled > MAX_THROTTLED or wait > MAX_WAIT_IN_PLACE:
                    raise Undelivered(Throttled(wait, f"telegram 429 (retry after {wait:g} s): {exc}")) from exc
                await self._sleep(wait)
            except ChatMigrated as exc:
                raise Undelivered(ChatMoved(str(exc.new_chat_id),
                                            f"group {chat_id} became supergroup {exc.new_chat_id}")) from exc
            except (Forbidden, BadRequest) as exc:
                reason = f"{type(exc).__name__}: {exc}"
                gone = isinstance(exc, Forbidden) or is_gone(exc)
                raise Undelivered(RecipientGone(reason) if gone else Refused(reason)) from exc
            except (TimedOut, NetworkError) as exc:
                failures += 1
                self.stats["network_retry"] += 1
                if failures >= self.config.send_attempts:
                    if answered_by_telegram(exc):  # a 5xx: Telegram's own answer, an attempt counted
                        raise Undelivered(TemporaryFailure(f"telegram: {exc}")) from exc
                    raise Undelivered(Postponed(self.backoff(failures), f"network: {exc}")) from exc
                await self._sleep(self.backoff(failures))
            except TelegramError as exc:
                raise Undelivered(TemporaryFailure(f"telegram: {exc}")) from exc
            finally:
                await slot.release()

    async def send(self, message: OutboundMessage) -> DeliveryOutcome:
        """Deliver one outbox message: send it (split if long) or, for kind "edit", edit the earlier one."""
        try:
            chat_id = int(message.address or "")
        except ValueError:
            return Refused(f"not a Telegram chat id: {message.address!r}")
        try:
            if message.kind == "edit":
                return Delivered(await self.edit(message, chat_id))
            rendered = render(message, private=chat_id > 0)
            last: str | None = None
            lane = "reply" if message.kind == "reply" else "bulk"
            for i, part in enumerate(rendered.parts):
                markup = rendered.markup if i == len(rendered.parts) - 1 else None
                sent = await self.call(chat_id, "message", lambda chat, part=part, markup=markup: self.bot.send_message(
                    chat_id=chat, text=part, parse_mode=ParseMode.HTML, reply_markup=markup,
                    link_preview_options=NO_PREVIEW), lane)
                last = str(sent.message_id)  # the part with the buttons: what a later edit changes
            for attachment in message.attachments:
                await self.send_file(chat_id, message, attachment)
        except Undelivered as exc:
            return exc.outcome
        self.stats["sent"] += 1
        return Delivered(last)

    async def send_file(self, chat_id: int, message: OutboundMessage, attachment: Attachment) -> str | None:
        """One attachment: a photo, a document, or — too large for Telegram — a link to it."""
        data, name = attachment.data, attachment.filename
        if not data:
            return None
        if attachment.kind == "photo" and len(data) <= PHOTO_LIMIT:
            sent = await self.call(chat_id, "message", lambda chat: self.bot.send_photo(
                chat_id=chat, photo=InputFile(data, filename=name)))
        elif len(data) <= DOCUMENT_LIMIT:
            sent = await self.call(chat_id, "message", lambda chat: self.bot.send_document(
                chat_id=chat, document=InputFile(data, filename=name)))
        else:
            url = await self.links.link(message) if self.links is not None else None
            note = html.escape(link_note(name, len(data), url, "超过 Telegram 50 MB 的上限"), quote=False)
            sent = await self.call(chat_id, "message", lambda chat: self.bot.send_message(
                chat_id=chat, text=note, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW))
        self.stats["files"] += 1
        return str(sent.message_id)

    async def edit(self, message: OutboundMessage, chat_id: int) -> str | None:
        """Edit the messages about `message.ref` already delivered to this chat; the last id edited."""
        earlier = await self._records.sent_message_ids(str(chat_id), message.ref or "")
        if not earlier:
            return None  # never delivered here: no stale card to correct
        text = to_html(split_text(message.text)[0], bold_first_line=True)
        markup: InlineKeyboardMarkup | None = inline_keyboard(message.buttons)
        done: str | None = None
        for message_id in earlier:
            if not message_id.isdigit():
                continue  # shown in a callback answer, not a message that can be edited
            try:
                # Without reply_markup Telegram removes the keyboard: what a taken task needs.
                await self.call(chat_id, "edit", lambda chat, mid=int(message_id): self.bot.edit_message_text(
                    chat_id=chat, message_id=mid, text=text, parse_mode=ParseMode.HTML, reply_markup=markup,
                    link_preview_options=NO_PREVIEW))
                done = message_id
            except Undelivered as exc:
                if not isinstance(exc.outcome, Refused):
                    raise
                if "not modified" in exc.outcome.reason:
                    done = message_id
                    continue
                # Deleted by an admin, or too old to edit: the other copies still get corrected.
                log.info("telegram edit of %s/%s failed: %s", chat_id, message_id, exc.outcome.reason)
        self.stats["edited"] += 1
        return done

    async def remove_keyboard(self, chat_id: int, message_id: int) -> None:
        """Take the buttons off a message (a private choice, once made)."""
        try:
            await self.call(chat_id, "edit", lambda chat: self.bot.edit_message_reply_markup(
                chat_id=chat, message_id=message_id))
        except Undelivered as exc:
            log.info("keyboard of %s/%s not removed: %s", chat_id, message_id, exc)
