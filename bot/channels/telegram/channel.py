"""The Telegram channel: python-telegram-bot's `Bot` in, the core's message model out and back.

Receiving (long polling, or a webhook on the bot's HTTP server):
- every update is stored in the inbox, keyed by `update_id`, *before* Telegram is told it
  arrived — before the next getUpdates moves the offset past it, before the webhook answers
  200 — and handled from the inbox, so a redelivered update has no second effect and a crash
  loses nothing (what was stored but not handled is handled on the next start, or by the
  sweeper a minute later);
- updates are handled in lanes, one per (chat, user): one person's messages keep their order,
  different people are handled side by side (two members pressing 「接单」 at once really race,
  and the database lets exactly one win);
- a button press is always answered (answerCallbackQuery). In a group, a press's short reply
  ("已经有人接了") is shown to the presser alone instead of being posted to everyone; in a
  private chat the pressed keyboard is removed, so a choice cannot be made twice.

Sending is `telegram_send.TelegramSender`: paced by the rate limiter, retried, never dropped.
The outbox relay calls `send` for several chats at once (`concurrency`).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.channels.telegram.config import TelegramConfig, bot_commands, build_bot, retry_seconds
from bot.channels.telegram.render import callback_answer
from bot.channels.telegram.send import TelegramSender
from bot.channels.telegram.inbound import ALLOWED_UPDATES, PLATFORM, Migrated, Received, translate
from bot.delivery.ratelimit import RateLimiter
from handlers.core.messages import OutboundMessage
from handlers.core.engine import Engine, message_from_payload
from storage.messaging.inbox import unprocessed
from storage.models import OutboxMessage
from storage.messaging.outbox import claim, mark_sent

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
    ) -> None:
        self.config = config
        self.concurrency = config.concurrency
        self._engine = engine
        self._sessions: async_sessionmaker[AsyncSession] = engine.sessions
        self._kick = kick
        self._sleep = sleep
        self.stats: Counter[str] = Counter()
        self.bot = build_bot(config)
        self.sender = TelegramSender(self.bot, config, sessions=engine.sessions, limiter=limiter, sleep=sleep,
                                     stats=self.stats)
        self.username: str | None = None
        self._stopping = asyncio.Event()
        self._background: list[asyncio.Task[None]] = []
        self._lanes: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._inbound_gate = asyncio.Semaphore(config.inbound_concurrency)
        self._active = 0

    @classmethod
    def from_runtime(cls, settings: Any, rt: Any, kick: Callable[[], None]) -> TelegramChannel:
        """Build from settings and the runtime: the limiter is shared through Redis when configured."""
        from bot.delivery.ratelimit import MemoryRateLimiter, RedisRateLimiter

        limiter: RateLimiter = RedisRateLimiter(rt.redis) if rt.redis is not None else MemoryRateLimiter()
        return cls(TelegramConfig.from_settings(settings), engine=rt.engine, limiter=limiter, kick=kick)

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
        await self.recover()
        if self.config.mode == "polling":
            self._background.append(asyncio.create_task(self._poll(), name="telegram-polling"))
        self._background.append(asyncio.create_task(self._sweep(), name="telegram-inbox-sweep"))

    async def stop(self) -> None:
        """Stop receiving, finish the updates being handled, close the client."""
        self._stopping.set()
        for task in self._background:
            task.cancel()  # an unfinished getUpdates acknowledged nothing
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background.clear()
        await self.drain()
        await self.bot.shutdown()

    async def drain(self) -> None:
        """Wait until every stored update being handled is done."""
        while self._lanes:
            await asyncio.gather(*list(self._lanes.values()), return_exceptions=True)

    def routes(self) -> list[Any]:
        """The webhook route on the bot's HTTP server, in webhook mode."""
        if self.config.mode != "webhook":
            return []
        return [Route(self.config.webhook_path, self.webhook, methods=["POST"])]

    async def send(self, message: OutboundMessage) -> str | None:
        """Deliver one outbox message (the relay's Channel protocol)."""
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
            await self.sender.follow_migration(meaning.old_chat_id, meaning.new_chat_id)
            return None
        if meaning is None:
            return None
        row_id = await self._engine.store(meaning.message)
        if row_id is None:
            self.stats["redelivered"] += 1
            return None
        return row_id, meaning

    def schedule(self, row_id: int, received: Received) -> None:
        """Handle a stored update after the ones before it from the same person in the same chat."""
        key = (received.message.chat_id, received.message.user_id)
        before = self._lanes.get(key)

        async def run() -> None:
            try:
                if before is not None:
                    await asyncio.gather(before, return_exceptions=True)
                async with self._inbound_gate:
                    await self._handle(row_id, received)
            finally:
                if self._lanes.get(key) is task:
                    del self._lanes[key]

        task = asyncio.create_task(run())
        self._lanes[key] = task

    async def recover(self, older_than: timedelta | None = None) -> int:
        """Handle what was stored but never handled (a crash, a lost connection); returns how many.

        At start every such row; later, from the sweeper, only rows older than `older_than`. A
        row another worker is handling right now is safe: handling claims it first.
        """
        async with self._sessions() as session:
            rows = await unprocessed(session, PLATFORM, limit=10_000)
        if older_than is not None:
            cutoff = self._engine.clock.now() - older_than
            rows = [r for r in rows if r.received_at <= cutoff]
        for row in rows:
            self.schedule(row.id, Received(message_from_payload(row.payload)))
        if rows:
            log.warning("telegram: handling %d stored updates that were left unhandled", len(rows))
        return len(rows)

    async def _sweep(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.config.sweep_interval)
                return
            except TimeoutError:
                pass
            try:
                await self.recover(older_than=timedelta(seconds=self.config.sweep_interval))
            except Exception:
                log.exception("telegram: sweeping the inbox failed")

    async def _handle(self, row_id: int, received: Received) -> None:
        self._active += 1
        self.stats["max_parallel"] = max(self.stats["max_parallel"], self._active)
        try:
            sent = await self._engine.process_stored(row_id, received.message)
        except Exception:  # the inbox keeps it: the sweeper or the next start handles it
            log.exception("telegram update %s could not be handled", received.message.message_id)
            sent = []
        finally:
            self._active -= 1
        self.stats["handled"] += 1
        if received.callback_query_id is not None:
            await self._answer_press(received, sent)
        self._kick()

    async def _answer_press(self, received: Received, sent: list[OutboxMessage]) -> None:
        """Answer a button press: in a group to the presser alone, in a private chat with a toast."""
        msg = received.message
        replies = [r for r in sent if r.kind == "reply" and r.platform == PLATFORM and r.address == msg.chat_id]
        text, alert = "", False
        if replies:
            first = replies[0]
            if msg.chat_type == "group" and not first.buttons and len(first.text) <= MAX_ALERT:
                # "已经有人接了" is meant for the one who pressed, not for the whole group.
                text, alert = first.text, True
                await self._shown_in_alert(first, received.callback_query_id or "")
            else:
                text = first.text.split("\n", 1)[0]
        try:
            await self.bot.answer_callback_query(received.callback_query_id or "",
                                                 text=callback_answer(text) or None, show_alert=alert)
        except TelegramError as exc:  # too old (a redelivery) or already answered: the reply still goes
            log.info("callback query %s not answered: %s", received.callback_query_id, exc)
        if msg.chat_type == "private" and msg.reply_to_message_id:
            await self.sender.remove_keyboard(int(msg.chat_id), int(msg.reply_to_message_id))

    async def _shown_in_alert(self, row: OutboxMessage, callback_query_id: str) -> None:
        """Record a reply as delivered by the callback answer, unless the relay took it first."""
        async with self._sessions() as session:
            now = self._engine.clock.now()
            if await claim(session, row.id, now=now):
                await mark_sent(session, row.id, now=now, external_message_id=f"callback:{callback_query_id}")
            await session.commit()

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
            while len(self._lanes) > 4 * self.config.inbound_concurrency and not self._stopping.is_set():
                await asyncio.wait(list(self._lanes.values()), return_when=asyncio.FIRST_COMPLETED)

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
