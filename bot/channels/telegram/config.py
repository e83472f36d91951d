"""The Telegram channel's configuration: settings → `TelegramConfig`, the client, the commands, deep links.

Which commands each kind of chat and person is shown is `bot.channels.telegram.menus`.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from math import ceil
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from telegram import Bot, BotCommand
from telegram.error import RetryAfter
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.delivery.ratelimit import Limit
from handlers.core.router import Dispatcher

if TYPE_CHECKING:
    from bot.settings import Settings

_SECRET_FORM = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND_FORM = re.compile(r"[a-z0-9_]{1,32}")
_USERNAME_FORM = re.compile(r"[A-Za-z0-9_]{5,32}")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class TelegramLimits:
    """Outbound pacing. Periods are seconds; tests shrink them to keep the suite fast."""

    per_second: float = 25.0
    chat_interval: float = 1.0
    group_count: int = 20
    group_period: float = 60.0
    # Added to the per-chat and per-group windows: a request reaches Telegram some time after
    # its slot is taken (network, a busy event loop), and two requests to one chat must not
    # arrive closer together than the limit even when the first one travelled slowly.
    guard: float = 0.25
    # The global budget is also spread over the second (at most `burst` per 1/5 s at 25/s):
    # 25 requests fired at once arrive strung out, and stragglers of one second's burst
    # would land in Telegram's count of the next.
    burst: int = 5

    def global_limits(self, key: str) -> list[Limit]:
        """The bot-wide budget: a whole number of events per window (2.5/s → 3 per 1.2 s), smoothed."""
        count = max(1, ceil(self.per_second))
        limits = [Limit(key, count, count / self.per_second)]
        if self.burst < count:
            limits.append(Limit(key + ":burst", self.burst, self.burst / self.per_second))
        return limits


@dataclass(frozen=True)
class TelegramConfig:
    """Everything the channel is configured with (see `bot.settings`)."""

    token: str
    api_url: str = "https://api.telegram.org/bot"
    mode: str = "polling"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    limits: TelegramLimits = field(default_factory=TelegramLimits)
    concurrency: int = 32  # outbound sends in flight (relay lanes)
    inbound_concurrency: int = 16  # updates handled at once
    poll_timeout: int = 25  # long-poll seconds
    send_attempts: int = 6  # network failures before the relay takes the message back
    backoff: float = 0.5  # first network retry delay; doubles, capped at `backoff_cap`
    backoff_cap: float = 30.0
    sweep_interval: float = 60.0  # how often stored-but-unhandled updates are looked for
    menu_interval: float = 60.0  # how often people's own command menus are brought in step with their roles

    def __post_init__(self) -> None:
        if not self.token or ":" not in self.token:
            raise ValueError("XINFENG_TELEGRAM_TOKEN must look like 123456:ABC… (from @BotFather)")
        if self.mode not in ("polling", "webhook"):
            raise ValueError(f"XINFENG_TELEGRAM_MODE must be polling or webhook, not {self.mode!r}")
        if self.mode == "webhook":
            if not self.webhook_url or urlparse(self.webhook_url).scheme not in ("https", "http"):
                raise ValueError("webhook mode needs XINFENG_TELEGRAM_WEBHOOK_URL (https://…)")
            if not self.webhook_secret or not _SECRET_FORM.fullmatch(self.webhook_secret):
                raise ValueError("webhook mode needs XINFENG_TELEGRAM_WEBHOOK_SECRET: 1–256 of A-Z a-z 0-9 _ -")

    @property
    def webhook_path(self) -> str:
        """The path of the webhook route on the bot's HTTP server (the webhook URL's path)."""
        path = urlparse(self.webhook_url).path if self.webhook_url else ""
        return path or "/telegram/webhook"

    @property
    def bot_id(self) -> str:
        """The bot's numeric id (the token's first part): rate-limit keys are per bot."""
        return self.token.split(":", 1)[0]

    @classmethod
    def from_settings(cls, settings: Settings) -> TelegramConfig:
        """Read the `XINFENG_TELEGRAM_*` settings."""
        return cls(
            token=settings.telegram_token or "",
            api_url=settings.telegram_api_url,
            mode=settings.telegram_mode,
            webhook_url=settings.telegram_webhook_url,
            webhook_secret=settings.telegram_webhook_secret,
            limits=TelegramLimits(per_second=settings.telegram_rate_global,
                                  chat_interval=settings.telegram_rate_chat_interval,
                                  group_count=settings.telegram_rate_group_per_minute),
        )


def build_bot(config: TelegramConfig) -> Bot:
    """python-telegram-bot's client, with a connection for every send the relay has in flight."""
    # PTB 22.2+ warns on every RetryAfter it builds (an int→timedelta migration); we read both forms.
    warnings.filterwarnings("ignore", category=PTBDeprecationWarning, message=".*retry_after.*")
    pool = config.concurrency + config.inbound_concurrency + 4
    return Bot(
        config.token,
        base_url=config.api_url,
        request=HTTPXRequest(connection_pool_size=pool, read_timeout=15.0, write_timeout=15.0,
                             connect_timeout=10.0, pool_timeout=60.0),
        get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=config.poll_timeout + 10.0,
                                         connect_timeout=10.0),
    )


def retry_seconds(exc: RetryAfter) -> float:
    """How long a 429 asks us to wait, in seconds."""
    # PTB 22 deprecates reading `retry_after` as an int; silence that and accept either form.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)


def bot_commands(dispatcher: Dispatcher) -> list[BotCommand]:
    """Every slash command people also reach by a Chinese name, described by those names.

    A handler is listed once, under its first latin alias, and only if people also reach it
    by a Chinese name (commands without one are another platform's plumbing). The menus
    (`bot.channels.telegram.menus`) are chosen from these.
    """
    commands: list[BotCommand] = [BotCommand("start", "开始使用")]
    seen_names = {"start"}
    seen_handlers: set[int] = set()
    for router in dispatcher.routers:
        for cmd in router.commands:
            name = cmd.name.removeprefix("/")
            if not cmd.name.startswith("/") or not _COMMAND_FORM.fullmatch(name) or name in seen_names:
                continue
            if id(cmd.handler) in seen_handlers:
                continue
            chinese = [c.name for c in router.commands if c.handler is cmd.handler and _CJK.search(c.name)]
            if not chinese:
                continue
            seen_names.add(name)
            seen_handlers.add(id(cmd.handler))
            commands.append(BotCommand(name, "、".join(chinese)[:256]))
    return commands


def deep_link(username: str | None, payload: str) -> str | None:
    """The link that opens the bot and sends it `/start <payload>`; None while the bot's name is unknown."""
    if not username or not _USERNAME_FORM.fullmatch(username):
        return None
    return f"https://t.me/{username}?start={payload}"
