"""Telegram `Update` → the core's `InboundMessage`: the only place that reads a Telegram update.

One update becomes at most one message, keyed by `str(update_id)` so that a redelivered
update (polling after a crash, a webhook retry) is recognised by the inbox and has no second
effect. Updates the bot has nothing to say about (joins, edits, channel posts) become nothing
and are simply acknowledged. Text and names lose their control characters here
(`bot.channels.limits.clean_text`): nothing downstream sees a NUL.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import CallbackQuery, Message, Update

from bot.channels.limits import clean_optional, clean_text
from handlers.core.messages import InboundMessage, Media
from handlers.people.contact import CONTACT_COMMAND

PLATFORM = "telegram"

# What the bot asks Telegram for (getUpdates / setWebhook): everything else is never sent.
ALLOWED_UPDATES = ["message", "callback_query"]


@dataclass(frozen=True)
class Received:
    """An update translated: the message to store, and what the channel must answer directly."""

    message: InboundMessage
    # A button press must be answered (answerCallbackQuery) or the client spins for seconds.
    callback_query_id: str | None = None


@dataclass(frozen=True)
class Migrated:
    """A group became a supergroup and changed its id; its team binding must follow."""

    old_chat_id: str
    new_chat_id: str


def _chat_type(kind: str) -> str | None:
    if kind == "private":
        return "private"
    if kind in ("group", "supergroup"):
        return "group"
    return None  # channels: the bot does not serve them


def _media(message: Message) -> tuple[Media, ...]:
    found: list[Media] = []
    if message.photo:
        found.append(Media("photo", message.photo[-1].file_id))  # the largest size
    if message.voice:
        found.append(Media("voice", message.voice.file_id))
    if message.audio:
        found.append(Media("voice", message.audio.file_id))
    if message.document:
        found.append(Media("file", message.document.file_id))
    if message.video:
        found.append(Media("file", message.video.file_id))
    if message.location:
        found.append(Media("location", f"{message.location.latitude},{message.location.longitude}"))
    if message.contact:
        found.append(Media("contact", message.contact.phone_number))
    return tuple(found)


def _from_message(update_id: int, message: Message) -> Received | Migrated | None:
    if message.migrate_to_chat_id:
        return Migrated(str(message.chat.id), str(message.migrate_to_chat_id))
    chat_type = _chat_type(message.chat.type)
    sender = message.from_user
    if chat_type is None or sender is None:
        return None
    text = clean_text(message.text or message.caption or "")
    media = _media(message)
    verified_phone = None
    if message.contact is not None:
        # Telegram lets anyone forward any contact card; only a contact whose user_id is the
        # sender's own (what the 「分享手机号」 button sends) proves the number is theirs.
        if message.contact.user_id is not None and message.contact.user_id == sender.id:
            verified_phone = message.contact.phone_number
        text = CONTACT_COMMAND
    if not text and not media:
        return None  # service messages: members joining, pins, title changes
    return Received(InboundMessage(
        platform=PLATFORM,
        user_id=str(sender.id),
        chat_id=str(message.chat.id),
        chat_type=chat_type,  # type: ignore[arg-type]
        text=text,
        message_id=str(update_id),
        user_name=clean_optional(sender.full_name or sender.username),
        media=media,
        verified_phone=verified_phone,
    ))


def _from_callback(update_id: int, query: CallbackQuery) -> Received | None:
    if query.data is None:
        return None  # a game button: nothing we sent
    pressed = query.message
    if pressed is not None:
        chat_id, chat_type = str(pressed.chat.id), _chat_type(pressed.chat.type)
    else:
        chat_id, chat_type = str(query.from_user.id), "private"  # a button on an inline-mode message
    if chat_type is None:
        return None
    return Received(
        InboundMessage(
            platform=PLATFORM,
            user_id=str(query.from_user.id),
            chat_id=chat_id,
            chat_type=chat_type,  # type: ignore[arg-type]
            text=clean_text(query.data),
            message_id=str(update_id),
            user_name=clean_optional(query.from_user.full_name or query.from_user.username),
            is_button=True,
            reply_to_message_id=str(pressed.message_id) if pressed is not None else None,
        ),
        callback_query_id=query.id,
    )


def translate(update: Update) -> Received | Migrated | None:
    """What an update means to the bot: a message to handle, a group migration, or nothing."""
    if update.message is not None:
        return _from_message(update.update_id, update.message)
    if update.callback_query is not None:
        return _from_callback(update.update_id, update.callback_query)
    return None
