"""Files sent with messages (charts, exports): bytes in `Blob` rows, described on the outbox row.

An outbox row's `attachments` is a JSON list of
`{"kind": "photo" | "document", "filename", "mime", "size", "blob_id", "sha256"}`; the relay
loads each blob's bytes before handing the message to a channel.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage
from storage.models.datamap import Blob

KINDS = ("photo", "document")


async def attach(
    session: AsyncSession, row: OutboxMessage, *, kind: str, filename: str, mime: str, data: bytes, now: datetime
) -> dict[str, Any]:
    """Store a file and add it to an outbox row (in the caller's transaction)."""
    if kind not in KINDS:
        raise ValueError(f"unknown attachment kind {kind!r}")
    digest = hashlib.sha256(data).hexdigest()
    blob = Blob(sha256=digest, mime=mime, size=len(data), data=data, created_at=now)
    session.add(blob)
    await session.flush()
    meta = {"kind": kind, "filename": filename, "mime": mime, "size": len(data), "blob_id": blob.id,
            "sha256": digest}
    # A new list, so the ORM sees the JSON column change.
    row.attachments = [*(row.attachments or []), meta]
    return meta


async def blob_data(session: AsyncSession, blob_ids: list[int]) -> dict[int, bytes]:
    """The bytes of some blobs, by id."""
    if not blob_ids:
        return {}
    rows = await session.execute(select(Blob.id, Blob.data).where(Blob.id.in_(blob_ids)))
    return {int(i): bytes(d) for i, d in rows}
