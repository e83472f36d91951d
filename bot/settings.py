"""Settings from `XINFENG_*` environment variables (and a `.env` file), read when asked, never at import."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of a Xinfeng deployment; the README has the table."""

    model_config = SettingsConfigDict(env_prefix="XINFENG_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite+aiosqlite:///{Path.cwd() / 'xinfeng.db'}"
    redis_url: str | None = None
    timezone: str = "Asia/Shanghai"
    language: str = "zh_CN"
    log_level: str = "WARNING"
    # The bot's HTTP server (webhooks, dashboard).
    http_host: str = "127.0.0.1"
    http_port: int = 8080

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises on an unknown zone, at start-up rather than at the first message
        return value

    @field_validator("redis_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def tz(self) -> ZoneInfo:
        """The region's time zone."""
        return ZoneInfo(self.timezone)
