"""The platform-neutral message model every channel translates to and from.

A channel adapter turns a platform payload into one `InboundMessage` and renders each
`OutboundMessage`; nothing in `handlers/` ever sees a platform object (RapidPro courier's shape).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Button:
    """A choice offered with a message. `data` is the command text pressing it sends.

    Because a press is just the command text, a channel that cannot show buttons degrades to
    "回复 1 确认" and the reply runs exactly the same handler.
    """

    label: str
    data: str

    def to_dict(self) -> dict[str, str]:
        """Serialise for the outbox."""
        return {"label": self.label, "data": self.data}


@dataclass(frozen=True)
class Media:
    """A voice message, photo or file, kept as the platform's reference."""

    kind: Literal["voice", "photo", "file", "location", "contact"]
    ref: str


@dataclass(frozen=True)
class InboundMessage:
    """One message or button press from a user, as every channel delivers it."""

    platform: str
    user_id: str
    chat_id: str
    text: str
    message_id: str
    chat_type: Literal["private", "group"] = "private"
    user_name: str | None = None
    is_button: bool = False
    media: tuple[Media, ...] = ()
    # A phone number the platform has proved belongs to the sender (Telegram shared contact).
    verified_phone: str | None = None
    # The platform message the pressed button was on, so the channel can edit it.
    reply_to_message_id: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: a photo shown inline, or a document to download.

    `data` holds the bytes once the relay has loaded them from the blob store.
    """

    kind: Literal["photo", "document"]
    filename: str
    mime: str
    size: int = 0
    data: bytes = b""
    blob_id: int | None = None


@dataclass
class OutboundMessage:
    """One message the bot sends to a person or a group."""

    platform: str | None
    address: str | None
    text: str
    recipient_label: str = ""
    buttons: list[Button] = field(default_factory=list)
    kind: str = "reply"
    ref: str | None = None
    outbox_id: int | None = None
    person_id: int | None = None
    attachments: list[Attachment] = field(default_factory=list)
