"""Deep-link QR codes asked for on an outbox row, for the channel to draw.

A deep link opens the bot with a payload — on Telegram `t.me/<bot>?start=join_KJ2026`, on a
WeChat Official Account a parametric QR code whose scan (or follow) brings `qrscene_join_KJ2026`
— and each platform spells it differently; only the channel knows its bot's name or can ask
its platform for the code. So a handler names the payload and the channel draws the picture.

The request travels as an attachment entry of kind `deeplink_qr` without a blob, named after
its payload (`join_KJ2026.png`): the relay passes it through untouched, a channel that draws
deep links replaces it with the picture, and a WeChat passive reply never swallows it (a row
with attachments goes by the relay).
"""

from __future__ import annotations

import re

from storage.models import OutboxMessage

DEEP_LINK_QR = "deeplink_qr"
# What both platforms accept as a payload (Telegram's start parameter: 1-64 of A-Z a-z 0-9 _ -;
# a WeChat scene string: 1-64 characters).
PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
SUFFIX = ".png"


def ask_for_qr(row: OutboxMessage, payload: str) -> None:
    """Ask the channel to send, with this message, a QR code that opens the bot with `payload`."""
    if not PAYLOAD.fullmatch(payload):
        raise ValueError(f"not a deep-link payload: {payload!r}")
    entry = {"kind": DEEP_LINK_QR, "filename": payload + SUFFIX, "mime": "image/png", "size": 0}
    # A new list, so the ORM sees the JSON column change.
    row.attachments = [*(row.attachments or []), entry]


def payload_of(kind: str, filename: str) -> str | None:
    """The payload a deep-link QR request carries, or None for any other attachment."""
    if kind != DEEP_LINK_QR or not filename.endswith(SUFFIX):
        return None
    payload = filename.removesuffix(SUFFIX)
    return payload if PAYLOAD.fullmatch(payload) else None
