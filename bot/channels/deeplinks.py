"""Drawing the deep-link QR codes a message asks for (`storage.messaging.deeplinks`), for any channel.

A channel says how its platform opens the bot with a payload — Telegram builds
`https://t.me/<bot>?start=<payload>`, a WeChat Official Account asks its API for a
parametric QR code — and `draw_deep_links` puts a PNG of that link where the request was.
When the channel cannot make a link (it does not know its bot's name, the API refused) the
request is dropped: the message itself still says how to do the same by typing (加入 <邀请码>),
and it speaks of a code to scan only when one is drawn (`SCAN_NOTE` is added then).
"""

from __future__ import annotations

import inspect
import io
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from handlers.core.messages import Attachment, OutboundMessage
from storage.messaging.deeplinks import payload_of

log = logging.getLogger(__name__)

# The URL a payload opens on this platform, or None when it cannot make one now (asking the
# platform's API may take a call: then it is awaited).
LinkMaker = Callable[[str], Awaitable[str | None] | str | None]
# Pixels per module and the quiet zone (in modules) around the code: a phone scans it off a screen.
BOX_SIZE = 10
BORDER = 4
# Added to a message whose code was drawn: the picture follows the text.
SCAN_NOTE = "扫下面的二维码也可以。"


def qr_png(text: str) -> bytes:
    """A PNG of a QR code that reads `text` (medium error correction: it survives a smudged screen)."""
    # qrcode (with PIL) takes ~0.1 s to import: loaded by the first invitation's code, not at start-up.
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M
    from qrcode.image.pil import PilImage

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=BOX_SIZE, border=BORDER)
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image(image_factory=PilImage).save(out, format="PNG")
    return out.getvalue()


def asks_for_deep_links(message: OutboundMessage) -> bool:
    """Whether the message carries a deep-link QR request."""
    return any(payload_of(a.kind, a.filename) is not None for a in message.attachments)


async def draw_deep_links(message: OutboundMessage, link_for: LinkMaker, *, show_links: bool) -> OutboundMessage:
    """The message with each deep-link QR request drawn as a PNG; `show_links` adds the links to the text."""
    if not asks_for_deep_links(message):
        return message
    attachments: list[Attachment] = []
    links: list[str] = []
    for attachment in message.attachments:
        payload = payload_of(attachment.kind, attachment.filename)
        if payload is None:
            attachments.append(attachment)
            continue
        made = link_for(payload)
        link = await made if inspect.isawaitable(made) else made
        if link is None:
            log.info("no deep link for %s on %s: the QR code is left out", payload, message.platform)
            continue
        png = qr_png(link)
        attachments.append(Attachment(kind="photo", filename=attachment.filename, mime="image/png",
                                      size=len(png), data=png))
        links.append(link)
    text = message.text
    if links:
        text = "\n".join([text, SCAN_NOTE, *(f"链接：{link}" for link in links if show_links)])
    return replace(message, text=text, attachments=attachments)
