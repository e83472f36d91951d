"""Files the bot sent, opened from a link: when a platform cannot carry the file itself.

A WeChat user outside the 48-hour window, a spreadsheet larger than a platform takes, an
Official Account (which has no file messages): the channel sends a one-time dashboard link
instead (`file_link`), whose session may open the attachments of that one outbox row and only
if the row was addressed to the same person (`sent_attachments`, `sent_file`). Links go to
admins only — a dashboard session needs an admin scope, and only admins receive charts and exports.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datamap.dashboard_links import create_link
from storage.messaging.attachments import blob_data
from storage.models import OrgUnit, OutboxMessage, RoleGrant

# A file link is read later than a login link: from a template message, maybe the next day.
FILE_LINK_TTL = timedelta(hours=24)


async def admin_home(session: AsyncSession, person_id: int) -> int | None:
    """The widest unit a person administers (the shortest path), or None for a non-admin."""
    rows = (await session.execute(
        select(OrgUnit.id, OrgUnit.path).join(RoleGrant, RoleGrant.org_unit_id == OrgUnit.id)
        .where(RoleGrant.person_id == person_id, RoleGrant.role == "admin"))).all()
    if not rows:
        return None
    return int(min(rows, key=lambda r: (len(r.path), r.id)).id)


async def file_link(session: AsyncSession, person_id: int, now: datetime) -> str | None:
    """A one-time dashboard login token for someone who was sent a file; None if they are no admin."""
    unit_id = await admin_home(session, person_id)
    if unit_id is None:
        return None
    return await create_link(session=session, person_id=person_id, org_unit_id=unit_id, now=now, ttl=FILE_LINK_TTL)


async def sent_attachments(session: AsyncSession, outbox_id: int, person_id: int) -> list[dict[str, Any]] | None:
    """The attachments of an outbox row addressed to this person; None when it is not theirs."""
    row = (await session.execute(
        select(OutboxMessage.person_id, OutboxMessage.attachments).where(OutboxMessage.id == outbox_id))).first()
    if row is None or row.person_id != person_id:
        return None
    return list(row.attachments or [])


async def sent_file(
    session: AsyncSession, outbox_id: int, person_id: int, index: int
) -> tuple[dict[str, Any], bytes] | None:
    """One attachment of a row addressed to this person, with its bytes."""
    files = await sent_attachments(session, outbox_id, person_id)
    if files is None or not 0 <= index < len(files):
        return None
    meta = files[index]
    data = (await blob_data(session, [int(meta["blob_id"])])).get(int(meta["blob_id"]))
    return None if data is None else (meta, data)
