"""The command menu each chat was given, so a chat is sent its menu again only when it changes.

Telegram keeps a bot's command menu per scope: one for all private chats (what a villager
sees), one for all group chats, and one per chat that overrides them. A person who is more
than a villager (a volunteer, a captain, an admin …) gets a menu of their own in their
private chat; this table remembers which (as a fingerprint of its commands), so the
channel can tell from the roster which chats are owed a new one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class ChatMenu(Base):
    """A chat's own command menu: `menu` fingerprints the commands it was last set to."""

    __tablename__ = "chat_menus"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    menu: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)
