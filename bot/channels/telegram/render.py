"""`OutboundMessage` → what Telegram's sendMessage/editMessageText take: escaped HTML, parts, keyboards.

- Text goes out with `parse_mode=HTML` (the first line of a card in bold), so every piece of
  text — which quotes residents' own words — is HTML-escaped; nothing a user types can
  inject formatting or break the message.
- Telegram takes at most 4,096 characters per message (counted after entity parsing, in
  UTF-16 code units); longer texts are split, at a line break where possible, and the
  buttons ride on the last part.
- A `Button`'s data is the command its press sends: it becomes callback data when it fits
  Telegram's 64 bytes, otherwise a 「发送：…」 line, so the command still works by typing.
- The contact command becomes a reply keyboard with a contact-request button, the only way a
  bot can get a phone number the platform vouches for.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from handlers.core.messages import Button, OutboundMessage
from handlers.people.contact import CONTACT_COMMAND

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
ROW_WIDTH = 10  # characters of labels per keyboard row
ROW_BUTTONS = 4

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut a text into parts of at most `limit` UTF-16 units, preferring line breaks."""
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        # The longest prefix that fits; a character never straddles two parts.
        cut, size = 0, 0
        for i, ch in enumerate(rest):
            size += 2 if ord(ch) > 0xFFFF else 1
            if size > limit:
                cut = i
                break
        newline = rest.rfind("\n", 0, cut)
        if newline > cut // 2:
            parts.append(rest[:newline])
            rest = rest[newline + 1:]
        else:
            parts.append(rest[:cut])
            rest = rest[cut:]
    parts.append(rest)
    return [p for p in parts if p.strip()] or ["…"]


def to_html(text: str, *, bold_first_line: bool) -> str:
    """Escape a plain text for parse_mode=HTML, optionally with its first line in bold."""
    if not bold_first_line or "\n" not in text:
        return html.escape(text, quote=False)
    head, tail = text.split("\n", 1)
    return f"<b>{html.escape(head, quote=False)}</b>\n{html.escape(tail, quote=False)}"


def fits_callback(data: str) -> bool:
    """Whether a command fits in Telegram's callback data (1–64 bytes)."""
    return 0 < len(data.encode("utf-8")) <= MAX_CALLBACK_DATA


def _rows(buttons: list[Button]) -> list[list[InlineKeyboardButton]]:
    rows: list[list[InlineKeyboardButton]] = []
    row: list[InlineKeyboardButton] = []
    width = 0
    for b in buttons:
        if row and (width + len(b.label) > ROW_WIDTH or len(row) >= ROW_BUTTONS):
            rows.append(row)
            row, width = [], 0
        row.append(InlineKeyboardButton(b.label, callback_data=b.data))
        width += len(b.label)
    if row:
        rows.append(row)
    return rows


def inline_keyboard(buttons: list[Button]) -> InlineKeyboardMarkup | None:
    """Inline buttons for the commands that fit in callback data."""
    usable = [b for b in buttons if fits_callback(b.data) and b.data != CONTACT_COMMAND]
    return InlineKeyboardMarkup(_rows(usable)) if usable else None


@dataclass
class Rendered:
    """One outbound message as Telegram calls: HTML parts and the markup for the last part."""

    parts: list[str]
    markup: ReplyMarkup | None = None
    plain: list[str] = field(default_factory=list)


def render(message: OutboundMessage, *, private: bool) -> Rendered:
    """Render a message for a private chat or a group."""
    text = message.text
    buttons = list(message.buttons)
    asks_contact = private and any(b.data == CONTACT_COMMAND for b in buttons)
    # Commands too long for callback data (and, in groups, the contact request) stay usable as text.
    spelled = [b for b in buttons if not fits_callback(b.data) or (b.data == CONTACT_COMMAND and not private)]
    if spelled:
        text += "\n" + "\n".join(f"· {b.label}：发送「{b.data}」" for b in spelled)
    markup: ReplyMarkup | None
    if asks_contact:
        label = next(b.label for b in buttons if b.data == CONTACT_COMMAND)
        markup = ReplyKeyboardMarkup([[KeyboardButton(label, request_contact=True)]],
                                     resize_keyboard=True, one_time_keyboard=True)
        others = [b for b in buttons if b.data != CONTACT_COMMAND and fits_callback(b.data)]
        if others:  # one markup per message: the contact request wins, the rest are spelled out
            text += "\n" + "\n".join(f"· {b.label}：发送「{b.data}」" for b in others)
    else:
        markup = inline_keyboard(buttons)
    plain = split_text(text)
    bold = bool(buttons) or message.kind == "edit"
    parts = [to_html(p, bold_first_line=bold and i == 0) for i, p in enumerate(plain)]
    return Rendered(parts=parts, markup=markup, plain=plain)


def callback_answer(text: str) -> str:
    """A reply shortened to what answerCallbackQuery shows (200 characters)."""
    text = text.strip()
    return text if len(text) <= MAX_CALLBACK_ANSWER else text[: MAX_CALLBACK_ANSWER - 1] + "…"
