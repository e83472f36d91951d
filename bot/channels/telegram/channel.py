"""The Telegram channel: python-telegram-bot's `Bot` in, the core's message model out and back.

Receiving (long polling, or a webhook on the bot's HTTP server) goes through the channel kit
(`bot/channels/base.py`):
- every update is stored in the inbox, keyed by `update_id`, *before* Telegram is told it
  arrived — before the next getUpdates moves the offset past it, before the webhook answers
  200 — and handled from the inbox, so a redelivered update has no second effect and a crash
  loses nothing (the kit's sweeper handles what was stored but not handled);
- updates are handled in the kit's lanes, one per (chat, user);
- a button press is always answered (answerCallbackQuery). In a group, a press's short reply
  ("已经有人接了") is shown to the presser alone instead of being posted to everyone (recorded
  as delivered inline); in a private chat the pressed keyboard is removed, so a choice cannot
  be made twice.

Sending is `send.TelegramSender`: paced by the rate limiter, retried, its outcome reported to
the relay. The outbox relay calls `send` for several chats at once (`concurrency`).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Update
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.channels.base import ChannelKit
from bot.channels.telegram.config import (
    TelegramConfig,
    bot_commands,
    build_bot,
    retry_seconds,
)
from bot.channels.telegram.inbound import (
    ALLOWED_UPDATES,
    PLATFORM,
    Migrated,
    Received,
    translate,
)
from bot.channels.telegram.render import callback_answer
from bot.channels.telegram.send import TelegramSender
from bot.dashboard import SentFileLinks
from bot.delivery.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from bot.settings import Settings
from handlers.core.engine import Engine
from handlers.core.messages import OutboundMessage
from storage.messaging.outcomes import DeliveryOutcome
from storage.models import OutboxMessage

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

Sleeper = Callable[[float], Awaitable[None]]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_WEBHOOK_BODY = 1 << 20
# A group reply short enough for an alert is shown to the presser alone (Telegram allows 200).
MAX_ALERT = 200


class TelegramChannel:
    """A Telegram bot as one of Xinfeng's channels (polling or webhook)."""

    platform = PLATFORM

    def __init__(
        self,
        config: TelegramConfig,
        *,
        engine: Engine,
        limiter: RateLimiter,
        kick: Callable[[], None] = lambda: None,
        sleep: Sleeper = asyncio.sleep,
        sweep_wait: Sleeper = asyncio.sleep,
    ) -> None:
        self.config = config
        self.concurrency = config.concurrency
        self._engine = engine
        self._sleep = sleep
        self.stats: Counter[str] = Counter()
        self.kit = ChannelKit(platform=PLATFORM, engine=engine, kick=kick, concurrency=config.inbound_concurrency,
                              sweep_interval=config.sweep_interval, sweep_wait=sweep_wait, stats=self.stats)
        self.bot = build_bot(config)
        self.sender = TelegramSender(self.bot, config, records=self.kit.records, limiter=limiter, sleep=sleep,
                                     stats=self.stats)
        self.username: str | None = None
        self._stopping = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None

    @classmethod
    def from_runtime(cls, settings: Settings, rt: Runtime, kick: Callable[[], None]) -> TelegramChannel:
        """Build from settings and the runtime: the limiter is shared through Redis when configured."""
        limiter: RateLimiter = RedisRateLimiter(rt.redis) if rt.redis is not None else MemoryRateLimiter()
        channel = cls(TelegramConfig.from_settings(settings), engine=rt.engine, limiter=limiter, kick=kick)
        # A file over Telegram's limit goes out as a one-time dashboard link.
        channel.sender.links = SentFileLinks(rt.sessions, rt.clock, settings.public_base_url)
        return channel

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Log in (getMe), publish the command menu, choose polling or webhook, recover, receive."""
        self._stopping.clear()
        await self._with_retries("getMe", self.bot.initialize)
        self.username = self.bot.username
        commands = bot_commands(self._engine.dispatcher)
        await self._with_retries("setMyCommands", lambda: self.bot.set_my_commands(commands))
        if self.config.mode == "webhook":
            await self._with_retries("setWebhook", lambda: self.bot.set_webhook(
                url=self.config.webhook_url or "", secret_token=self.config.webhook_secret,
                allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False))
        else:
            await self._with_retries("deleteWebhook", lambda: self.bot.delete_webhook(drop_pending_updates=False))
        await self.kit.start()
        if self.config.mode == "polling":
            self._poller = asyncio.create_task(self._poll(), name="telegram-polling")

    async def stop(self) -> None:
        """Stop receiving, finish the updates being handled, close the client."""
        self._stopping.set()
        if self._poller is not None:
            self._poller.cancel()  # an unfinished getUpdates acknowledged nothing
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        await self.kit.stop()
        await self.bot.shutdown()

    def routes(self) -> list[BaseRoute]:
        """The webhook route on the bot's HTTP server, in webhook mode."""
        if self.config.mode != "webhook":
            return []
        return [Route(self.config.webhook_path, self.webhook, methods=["POST"])]

    async def send(self, message: OutboundMessage) -> DeliveryOutcome:
        """Deliver one outbox message and report what became of it (the relay's Channel protocol)."""
        return await self.sender.send(message)

    async def _with_retries(self, what: str, call: Callable[[], Awaitable[Any]]) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await call()
            except RetryAfter as exc:
                await self._sleep(retry_seconds(exc))
            except NetworkError as exc:  # includes TimedOut; a BadRequest will not improve
                if isinstance(exc, BadRequest) or attempt >= self.config.send_attempts:
                    raise
                log.warning("telegram %s failed (%s), retrying", what, exc)
                await self._sleep(self.sender.backoff(attempt))

    # ------------------------------------------------------------------ receiving

    async def store(self, update: Update) -> tuple[int, Received] | None:
        """Store one update before it is acknowledged; None when there is nothing (new) to handle."""
        try:
            meaning = translate(update)
        except Exception:
            # One update we cannot read must not block every update behind it: log it and move on.
            log.exception("telegram update %s could not be read: %s", update.update_id, update.to_dict())
            self.stats["unreadable"] += 1
            return None
        if isinstance(meaning, Migrated):
            log.warning("telegram group %s became supergroup %s", meaning.old_chat_id, meaning.new_chat_id)
            await self.kit.records.chat_moved(meaning.old_chat_id, meaning.new_chat_id)
            return None
        if meaning is None:
            return None
        row_id = await self.kit.store(meaning.message)
        return None if row_id is None else (row_id, meaning)

    def schedule(self, row_id: int, received: Received) -> None:
        """Handle a stored update in its lane, then answer it if it was a button press."""

        async def answer(sent: list[OutboxMessage]) -> None:
            await self._answer_press(received, sent)

        self.kit.schedule(row_id, received.message, answer if received.callback_query_id is not None else None)

    async def _answer_press(self, received: Received, sent: list[OutboxMessage]) -> None:
        """Answer a button press: in a group to the presser alone, in a private chat with a toast."""
        msg = received.message
        query_id = received.callback_query_id or ""
        replies = [r for r in sent if r.kind == "reply" and r.platform == PLATFORM and r.address == msg.chat_id]
        text, alert = "", False
        if replies:
            first = replies[0]
            if msg.chat_type == "group" and not first.buttons and len(first.text) <= MAX_ALERT:
                # "已经有人接了" is meant for the one who pressed, not for the whole group: the
                # alert delivers it (unless the relay took it a moment earlier).
                text, alert = first.text, True
                await self.kit.records.deliver_inline([first.id], external_id=f"callback:{query_id}")
            else:
                text = first.text.split("\n", 1)[0]
        try:
            await self.bot.answer_callback_query(query_id, text=callback_answer(text) or None, show_alert=alert)
        except TelegramError as exc:  # too old (a redelivery) or already answered: the reply still goes
            log.info("callback query %s not answered: %s", query_id, exc)
        if msg.chat_type == "private" and msg.reply_to_message_id:
            await self.sender.remove_keyboard(int(msg.chat_id), int(msg.reply_to_message_id))

    async def _poll(self) -> None:
        """Long polling: store each update, and only then let the next getUpdates acknowledge it."""
        offset: int | None = None
        failures = 0
        while not self._stopping.is_set():
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=self.config.poll_timeout,
                                                     allowed_updates=ALLOWED_UPDATES)
            except RetryAfter as exc:
                await self._sleep(retry_seconds(exc))
                continue
            except (InvalidToken, Forbidden):
                log.error("telegram rejected the bot token; polling stopped")
                return
            except (Conflict, TelegramError) as exc:
                failures += 1
                log.warning("telegram getUpdates failed: %s", exc)
                await self._sleep(self.sender.backoff(min(failures, 8)))
                continue
            failures = 0
            stored: list[tuple[int, Received]] = []
            for update in updates:
                try:
                    found = await self.store(update)
                except Exception:
                    # Not acknowledged: from this update on, the batch comes again.
                    log.exception("telegram: storing update %s failed; it will be fetched again", update.update_id)
                    await self._sleep(self.sender.backoff(1))
                    break
                if found is not None:
                    stored.append(found)
                offset = update.update_id + 1
            # The whole batch is stored before any of it is handled, so presses that arrived
            # together are handled together (and race in the database, as they should).
            for row_id, received in stored:
                self.schedule(row_id, received)
            # Back-pressure: fetch (and so acknowledge) no faster than updates are handled.
            await self.kit.wait_for_room(4 * self.config.inbound_concurrency)

    async def webhook(self, request: Request) -> Response:
        """The webhook route: 403 without the secret, 400 if malformed, 200 only once stored."""
        given = request.headers.get(SECRET_HEADER, "")
        expected = self.config.webhook_secret or ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            self.stats["webhook_forbidden"] += 1
            return PlainTextResponse("forbidden", status_code=403)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_WEBHOOK_BODY):
            return PlainTextResponse("too large", status_code=413)
        try:
            data = await request.json()
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.bot)
        except Exception:  # whatever is wrong with the body, the answer is 400, never a traceback
            self.stats["webhook_malformed"] += 1
            return PlainTextResponse("malformed update", status_code=400)
        try:
            found = await self.store(update)
        except Exception:
            log.exception("telegram: storing webhook update %s failed", update.update_id)
            return PlainTextResponse("try again", status_code=503)  # Telegram redelivers
        if found is not None:
            self.schedule(*found)
        return Response(status_code=200)
