"""Tables the WeChat channels need: the 48-hour customer-service window and numbered choices.

WeChat lets an Official Account send customer-service messages only within 48 hours of the
user's last action, and only so many per window; the window row counts them, so every worker
can choose between a customer-service and a template message. WeChat shows no buttons,
so the choices last shown as "回复 1 接单" are kept here, where any worker can map a bare "1".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class ContactWindow(Base):
    """How many customer-service messages a WeChat user was sent in their current 48-hour window.

    The window starts at the user's last action, which is the account's
    `ChannelIdentity.last_seen_at` (set in the same transaction that handles each message);
    `window_start` says which window `cs_sent` counts, so a new action starts a new count.
    """

    __tablename__ = "wechat_contact_windows"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    # WeChat refuses (45047) beyond its per-window limit.
    cs_sent: Mapped[int] = mapped_column(Integer, default=0)


class NumberedChoices(Base):
    """The buttons last shown in a chat as numbered text: `choices[n-1]` is what "n" means."""

    __tablename__ = "wechat_numbered_choices"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    # Each entry is a button's `data`, i.e. the command text the reply stands for.
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime)
