"""What every channel's edge enforces on what comes in: bounded bodies and text without control characters.

A request body is read with its size counted as it arrives — a declared `Content-Length` over
the limit is refused at once, a chunked body (no length declared) as soon as it passes the limit
— so no body larger than the limit is ever held in memory. Text from a platform loses its NUL
and other control characters (line breaks and tabs stay) in the adapter's translation, so nothing
downstream — the parser, the database, a reply echoing it — ever sees them.
"""

from __future__ import annotations

import re

from starlette.requests import Request

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class BodyTooLarge(Exception):
    """A request body went over its limit while it was read (or declared it would)."""


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refused with `BodyTooLarge` as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge(declared)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def clean_text(text: str) -> str:
    """Text as the bot takes it in: NUL and control characters removed, line endings as "\\n"."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def clean_optional(text: str | None) -> str | None:
    """`clean_text` for a value that may be missing."""
    return None if text is None else clean_text(text)
