"""Settings from `XINFENG_*` environment variables (and a `.env` file), read when asked, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of a Xinfeng deployment; the README has the table."""

    model_config = SettingsConfigDict(env_prefix="XINFENG_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite+aiosqlite:///{Path.cwd() / 'xinfeng.db'}"
    redis_url: str | None = None
    timezone: str = "Asia/Shanghai"
    log_level: str = "WARNING"
    # "text" (one line a record, for a terminal) or "json" (one object a line, for a log collector).
    log_format: Literal["text", "json"] = "text"
    # The bot's HTTP server (webhooks, dashboard).
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    # The address people open the bot's web pages at (dashboard login links); blank: http://host:port.
    public_url: str = ""
    # Set when public_url is https: the dashboard's session cookie is then sent over HTTPS only.
    dashboard_secure_cookie: bool = False
    # Telegram (python-telegram-bot): setting the token turns the channel on.
    telegram_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    # Outbound pacing, a little under Telegram's ~30/s per bot, 1/s per chat, 20/min per group.
    telegram_rate_global: float = 25.0
    telegram_rate_chat_interval: float = 1.0
    telegram_rate_group_per_minute: int = 20
    # WeChat Official Account (公众号): token, app id and secret turn it on; an AES key → encrypted mode.
    wechat_token: str | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    wechat_aes_key: str | None = None
    wechat_api_url: str = "https://api.weixin.qq.com"
    # Template ids per kind of notification ("task", "notice", … or "default"), used outside the
    # 48-hour customer-service window: XINFENG_WECHAT_TEMPLATE_IDS='{"task": "…", "default": "…"}'.
    wechat_template_ids: dict[str, str] = {}
    # Seconds a callback waits for the handler before answering empty (WeChat gives up at 5).
    wechat_reply_budget: float = 3.0
    # WeCom (企业微信) self-built app: corp id, agent id, secret, callback token and AES key.
    wecom_corp_id: str | None = None
    wecom_agent_id: int | None = None
    wecom_secret: str | None = None
    wecom_token: str | None = None
    wecom_aes_key: str | None = None
    wecom_api_url: str = "https://qyapi.weixin.qq.com"
    # WeCom customer groups (客户群, issue 17): each group takes a limited number of group messages —
    # "month" (as many a month as it has days, WeCom's default), "day" (one a day) or "week" (seven a
    # week); an unconfirmed task is reminded once after `remind` minutes and given up at `deadline`
    # minutes, when its members are told the other ways.
    wecom_group_quota: Literal["month", "day", "week"] = "month"
    wecom_group_remind_minutes: int = Field(default=120, ge=1)
    wecom_group_deadline_minutes: int = Field(default=360, ge=2)
    # Hours one volunteer may claim for one day, tasks and activities together; more needs a
    # captain's or admin's explicit word (audited).
    daily_hours_cap: float = Field(default=12.0, gt=0, le=24)
    # Days the sent-log, handled inbox rows and delivered outbox rows are kept before pruning.
    retention_days: int = Field(default=90, ge=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises on an unknown zone, at start-up rather than at the first message
        return value

    @field_validator("redis_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("telegram_token", "telegram_webhook_url", "telegram_webhook_secret", mode="before")
    @classmethod
    def _blank_telegram_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("wechat_token", "wechat_app_id", "wechat_app_secret", "wechat_aes_key", "wecom_corp_id",
                     "wecom_agent_id", "wecom_secret", "wecom_token", "wecom_aes_key", mode="before")
    @classmethod
    def _blank_wechat_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def public_base_url(self) -> str:
        """Where the bot's web pages are reached, without a trailing slash."""
        return (self.public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    @property
    def tz(self) -> ZoneInfo:
        """The region's time zone."""
        return ZoneInfo(self.timezone)
