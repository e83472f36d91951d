"""The Telegram channel: python-telegram-bot's `Bot` in, the core's message model out and back.

Receiving (long polling, or a webhook on the bot's HTTP server) goes through the channel kit
(`bot/channels/base.py`):
- every update is handled in one transaction that also records it in the inbox, keyed by
  `update_id`, and Telegram is told it arrived only after that commit — the webhook answers
  200 then (503 when nothing could be recorded, so Telegram delivers it again), and polling
  moves its offset past a batch only once the whole batch is committed. A redelivered update
  meets its inbox row and has no second effect; a crash loses nothing, as nothing was
  acknowledged;
- updates are handled in the kit's lanes, one per (chat, user); the webhook's body is read
  with its size counted (`bot.channels.limits`), a chunked one too;
- a button press is always answered (answerCallbackQuery). In a group, a press's short reply
  ("已经有人接了") is shown to the presser alone instead of being posted to everyone (recorded
  as delivered inline); in a private chat the pressed keyboard is removed, so a choice cannot
  be made twice.

Sending is `send.TelegramSender`: paced by the rate limiter, retried, its outcome reported to
the courier, which sends a handled update's replies right after its commit; the relay sends the
rest. Both call `send` for several chats at once (`concurrency`).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
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

from bot.channels.base import AfterHandled, ChannelKit
from bot.channels.limits import BodyTooLarge, read_limited
from bot.channels.deeplinks import draw_deep_links
from bot.channels.telegram.config import (
    TelegramConfig,
    build_bot,
    deep_link,
    retry_seconds,
)
from bot.channels.telegram.inbound import (
    ALLOWED_UPDATES,
    PLATFORM,
    Migrated,
    Received,
    translate,
)
from bot.channels.telegram.menus import MenuKeeper
from bot.channels.telegram.render import callback_answer
from bot.channels.telegram.send import TelegramSender
from bot.dashboard import SentFileLinks
from bot.delivery.failover import FailoverRateLimiter, limiter_for
from bot.delivery.presence import worker_name
from bot.delivery.ratelimit import Limit, RateLimiter
from bot.settings import Settings
from handlers.core.engine import Engine, Handled, Unavailable
from handlers.core.messages import OutboundMessage
from storage.messaging.outcomes import DeliveryOutcome

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

Sleeper = Callable[[float], Awaitable[None]]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_WEBHOOK_BODY = 1 << 20
# A group reply short enough for an alert is shown to the presser alone (Telegram allows 200).
MAX_ALERT = 200
# The inbox is swept at least this often (seconds) for what a crashed worker kept.
SWEEP_EVERY = 5.0


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
        # Swept every few seconds at most: what a crashed worker kept is handled soon after.
        self.kit = ChannelKit(platform=PLATFORM, engine=engine, kick=kick, concurrency=config.inbound_concurrency,
                              sweep_interval=min(config.sweep_interval, SWEEP_EVERY), sweep_wait=sweep_wait,
                              retry_wait=sleep, stats=self.stats)
        self.bot = build_bot(config)
        self.limiter = limiter
        self.sender = TelegramSender(self.bot, config, records=self.kit.records, limiter=limiter, sleep=sleep,
                                     stats=self.stats)
        self.username: str | None = None
        # Command menus per chat type and per person's roles (menus.py): published at start, kept until stop.
        self.menus = MenuKeeper(self.bot, self.sender, engine, interval=config.menu_interval)
        self._stopping = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None

    @classmethod
    def from_runtime(cls, settings: Settings, rt: Runtime, kick: Callable[[], None]) -> TelegramChannel:
        """Build from settings and the runtime: the limiter is shared through Redis when configured.

        While Redis is away the limiter keeps this worker to its share of each limit (the live
        workers counted by their heartbeats, see `bot.delivery.failover`).
        """
        stats: Counter[str] = Counter()
        limiter: RateLimiter = limiter_for(rt.redis, stats=stats, owner=worker_name())
        channel = cls(TelegramConfig.from_settings(settings), engine=rt.engine, limiter=limiter, kick=kick)
        channel.stats.update(stats)
        if isinstance(limiter, FailoverRateLimiter):
            limiter.stats = channel.stats
            limiter.workers = channel.kit.live_workers
        # A file over Telegram's limit goes out as a one-time dashboard link.
        channel.sender.links = SentFileLinks(rt.sessions, rt.clock, settings.public_base_url)
        return channel

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Log in (getMe), publish the command menu, choose polling or webhook, recover, receive."""
        self._stopping.clear()
        await self._with_retries("getMe", self.bot.initialize)
        self.username = self.bot.username
        await self._with_retries("setMyCommands", self.menus.publish)  # menus.py
        self.menus.start()
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
        await self.menus.stop()  # menus.py
        await self.bot.shutdown()

    def routes(self) -> list[BaseRoute]:
        """The webhook route on the bot's HTTP server, in webhook mode."""
        if self.config.mode != "webhook":
            return []
        return [Route(self.config.webhook_path, self.webhook, methods=["POST"])]

    async def end_held(self, owner: str, addresses: Sequence[str]) -> None:
        """End the rate-limit slots a dead worker held for its sends to these chats (and the bot's):
        the rows taken over from it would otherwise wait out the hold (up to `HOLD`, 45 s)."""
        limits: dict[str, Limit] = {}
        for address in dict.fromkeys(addresses):
            try:
                chat_id = int(address)
            except ValueError:
                continue
            limits.update((lim.key, lim) for lim in self.sender.limits(chat_id, "message"))
        await self.limiter.end_held(owner, list(limits.values()))

    async def send(self, message: OutboundMessage) -> DeliveryOutcome:
        """Deliver one outbox message and report what became of it (the relay's Channel protocol)."""
        # A deep-link QR request (an invite) becomes the bot's t.me link and its QR code (bot/channels/deeplinks.py).
        message = await draw_deep_links(message, lambda payload: deep_link(self.username, payload), show_links=True)
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

    def _meaning(self, update: Update) -> Received | Migrated | None:
        try:
            return translate(update)
        except Exception:
            # One update we cannot read must not block every update behind it: log it and move on.
            log.exception("telegram update %s could not be read: %s", update.update_id, update.to_dict())
            self.stats["unreadable"] += 1
            return None

    async def receive(self, update: Update) -> asyncio.Future[Handled | None] | None:
        """Handle one update in its lane (answering it if it was a button press); None when there is nothing to.

        The future resolves once the update's transaction committed; it fails with `Unavailable`
        when nothing could be recorded — Telegram must then deliver the update again.
        """
        meaning = self._meaning(update)
        if isinstance(meaning, Migrated):
            log.warning("telegram group %s became supergroup %s", meaning.old_chat_id, meaning.new_chat_id)
            await self.kit.records.chat_moved(meaning.old_chat_id, meaning.new_chat_id)
            return None
        if meaning is None:
            return None
        return self.kit.receive(meaning.message, self._after(meaning))

    async def store(self, update: Update) -> tuple[int, Received] | None:
        """Keep one update in the inbox without handling it (what a process dying next leaves behind)."""
        meaning = self._meaning(update)
        if not isinstance(meaning, Received):
            return None
        row_id = await self.kit.store(meaning.message)
        return None if row_id is None else (row_id, meaning)

    def schedule(self, row_id: int, received: Received) -> None:
        """Handle a kept update in its lane, then answer it if it was a button press."""
        self.kit.schedule(row_id, received.message, self._after(received))

    def _after(self, received: Received) -> AfterHandled | None:
        if received.callback_query_id is None:
            return None

        async def answer(handled: Handled) -> list[int]:
            return await self._answer_press(received, handled)

        return answer

    async def _answer_press(self, received: Received, handled: Handled) -> list[int]:
        """Answer a button press: in a group to the presser alone, in a private chat with a toast.

        Returns the ids of replies the answer delivered (a group alert), which are not sent again.
        """
        msg = received.message
        query_id = received.callback_query_id or ""
        replies = [r for r in handled.rows if r.kind == "reply" and r.platform == PLATFORM and r.address == msg.chat_id]
        text, alert = "", False
        delivered: list[int] = []
        if replies:
            first = replies[0]
            if msg.chat_type == "group" and not first.buttons and len(first.text) <= MAX_ALERT:
                # "已经有人接了" is meant for the one who pressed, not for the whole group: the
                # alert delivers it (unless the relay took it a moment earlier).
                text, alert = first.text, True
                claimed = await self.kit.records.deliver_inline([first.id], external_id=f"callback:{query_id}",
                                                                held=[r.id for r in handled.direct])
                delivered = [r.id for r in claimed]
            else:
                text = first.text.split("\n", 1)[0]
        try:
            await self.bot.answer_callback_query(query_id, text=callback_answer(text) or None, show_alert=alert)
        except TelegramError as exc:  # too old (a redelivery) or already answered: the reply still goes
            log.info("callback query %s not answered: %s", query_id, exc)
        if msg.chat_type == "private" and msg.reply_to_message_id:
            await self.sender.remove_keyboard(int(msg.chat_id), int(msg.reply_to_message_id))
        return delivered

    async def _poll(self) -> None:
        """Long polling: handle a batch, and only once it is committed let the next getUpdates acknowledge it."""
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
            # The whole batch is handed over before any of it is awaited, so presses that arrived
            # together are handled together (and race in the database, as they should).
            handling: list[tuple[int, asyncio.Future[Handled | None] | None]] = []
            failed_at: int | None = None
            for update in updates:
                try:
                    handling.append((update.update_id, await self.receive(update)))
                except Exception as exc:  # a group's move could not be recorded: this update comes again
                    log.warning("telegram update %s not taken (%r); fetched again", update.update_id, exc)
                    failed_at = update.update_id
                    break
            for update_id, future in handling:
                if future is None:
                    continue
                try:
                    await future
                except Unavailable:
                    failed_at = update_id if failed_at is None else min(failed_at, update_id)
            if failed_at is not None:
                # Committed updates before it are acknowledged; from it on, the batch comes again
                # (what did commit after it is a redelivery then, with no second effect).
                offset = failed_at
                self.stats["poll_retry"] += 1
                await self._sleep(self.sender.backoff(1))
            elif updates:
                offset = updates[-1].update_id + 1

    async def webhook(self, request: Request) -> Response:
        """The webhook route: 403 without the secret, 413/400 for a body too large or malformed, 200 once committed.

        503 when the update could not be recorded: Telegram delivers it again.
        """
        given = request.headers.get(SECRET_HEADER, "")
        expected = self.config.webhook_secret or ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            self.stats["webhook_forbidden"] += 1
            return PlainTextResponse("forbidden", status_code=403)
        try:
            body = await read_limited(request, MAX_WEBHOOK_BODY)
        except BodyTooLarge:
            self.stats["webhook_too_large"] += 1
            return PlainTextResponse("too large", status_code=413)
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.bot)
        except Exception:  # whatever is wrong with the body, the answer is 400, never a traceback
            self.stats["webhook_malformed"] += 1
            return PlainTextResponse("malformed update", status_code=400)
        try:
            handling = await self.receive(update)
            if handling is not None:
                await asyncio.shield(handling)
        except Exception as exc:
            log.warning("telegram: webhook update %s not recorded (%r); Telegram delivers it again",
                        update.update_id, exc)
            return PlainTextResponse("try again", status_code=503)
        return Response(status_code=200)
