"""The outbox: messages owed, written with the change that causes them, delivered by a relay."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity, OutboxMessage, Person, TeamGroup, TeamMember


async def preferred_identity(session: AsyncSession, person_id: int) -> ChannelIdentity | None:
    """The chat account a person used most recently and can still be reached on."""
    stmt = (
        select(ChannelIdentity)
        .where(ChannelIdentity.person_id == person_id, ChannelIdentity.reachable.is_(True))
        .order_by(ChannelIdentity.last_seen_at.desc().nulls_last(), ChannelIdentity.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def enqueue_to_person(
    session: AsyncSession,
    *,
    person: Person,
    text: str,
    now: datetime,
    buttons: list[dict[str, str]] | None = None,
    kind: str = "notice",
    ref: str | None = None,
    platform: str | None = None,
    address: str | None = None,
) -> OutboxMessage:
    """Owe a person a message; addressed to their preferred chat account unless given."""
    if platform is None:
        ident = await preferred_identity(session, person.id)
        if ident is not None:
            platform, address = ident.platform, ident.external_id
    row = OutboxMessage(
        person_id=person.id,
        platform=platform,
        address=address,
        recipient_label=person.name,
        text=text,
        buttons=buttons or [],
        kind=kind,
        ref=ref,
        created_at=now,
    )
    session.add(row)
    return row


def enqueue_reply(
    session: AsyncSession, *, person_id: int | None, platform: str, address: str, label: str, text: str,
    buttons: list[dict[str, str]], ref: str | None, now: datetime,
) -> OutboxMessage:
    """Owe an answer in the chat a message came from (a private chat's person, or a group)."""
    row = OutboxMessage(person_id=person_id, platform=platform, address=address, recipient_label=label, text=text,
                        buttons=buttons, kind="reply", ref=ref, created_at=now)
    session.add(row)
    return row


def enqueue_to_group(
    session: AsyncSession,
    *,
    group: TeamGroup,
    label: str,
    text: str,
    now: datetime,
    buttons: list[dict[str, str]] | None = None,
    kind: str = "notice",
    ref: str | None = None,
) -> OutboxMessage:
    """Owe a team's group chat a message."""
    row = OutboxMessage(
        team_id=group.team_id,
        platform=group.platform,
        address=group.chat_id,
        recipient_label=label,
        text=text,
        buttons=buttons or [],
        kind=kind,
        ref=ref,
        created_at=now,
    )
    session.add(row)
    return row


async def team_groups(session: AsyncSession, team_id: int) -> list[TeamGroup]:
    """The group chats bound to a team."""
    stmt = select(TeamGroup).where(TeamGroup.team_id == team_id).order_by(TeamGroup.id)
    return list((await session.execute(stmt)).scalars().all())


async def opted_in_members(session: AsyncSession, team_id: int) -> list[Person]:
    """A team's members who take direct messages (not 免打扰), by id."""
    stmt = (select(Person).join(TeamMember, TeamMember.person_id == Person.id)
            .where(TeamMember.team_id == team_id, Person.dm_opt_in.is_(True)).order_by(Person.id))
    return list((await session.execute(stmt)).scalars().all())


def enqueue_edit(
    session: AsyncSession, *, destination: tuple[int, str, str, str], text: str, now: datetime,
    buttons: list[dict[str, str]] | None = None, ref: str,
) -> OutboxMessage:
    """Owe a group chat an edit of what it was sent about `ref` (see `group_destinations`)."""
    team_id, platform, address, label = destination
    row = OutboxMessage(team_id=team_id, platform=platform, address=address, recipient_label=label,
                        text=text, buttons=buttons or [], kind="edit", ref=ref, created_at=now)
    session.add(row)
    return row


async def pending(
    session: AsyncSession, *, platforms: list[str] | None, include_unaddressed: bool, limit: int = 200
) -> list[OutboxMessage]:
    """Messages still owed on the given platforms, oldest first."""
    stmt = select(OutboxMessage).where(OutboxMessage.status == "pending")
    conds = []
    if platforms is not None:
        conds.append(OutboxMessage.platform.in_(platforms))
    if include_unaddressed:
        conds.append(OutboxMessage.platform.is_(None))
    if platforms is not None or include_unaddressed:
        from sqlalchemy import or_

        stmt = stmt.where(or_(*conds))
    stmt = stmt.order_by(OutboxMessage.id).limit(limit)
    return list((await session.execute(stmt)).scalars().all())


async def claim(session: AsyncSession, row_id: int, *, now: datetime) -> bool:
    """Take one pending message for delivery; False if another relay took it first."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")
        .values(status="sending", sent_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def reclaim_stale(session: AsyncSession, *, older_than: datetime) -> int:
    """Put back messages a crashed relay claimed but never finished (at-least-once delivery)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.sent_at < older_than)
        .values(status="pending")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def mark_sent(
    session: AsyncSession, row_id: int, *, now: datetime, external_message_id: str | None = None
) -> bool:
    """Mark a claimed message sent."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == "sending")
        .values(status="sent", sent_at=now, external_message_id=external_message_id)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def mark_failed(session: AsyncSession, row_id: int, *, error: str, final: bool) -> None:
    """Record a failed attempt; a final failure is kept as 'undeliverable', never dropped."""
    values: dict[str, Any] = {
        "attempts": OutboxMessage.attempts + 1,
        "error": error,
        "status": "undeliverable" if final else "pending",
    }
    await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))


async def group_destinations(session: AsyncSession, *, ref: str) -> list[tuple[int, str, str, str]]:
    """Team groups already sent a message about `ref`: (team_id, platform, address, label) each once."""
    stmt = (
        select(OutboxMessage.team_id, OutboxMessage.platform, OutboxMessage.address,
               OutboxMessage.recipient_label)
        .where(OutboxMessage.ref == ref, OutboxMessage.kind != "edit", OutboxMessage.team_id.is_not(None),
               OutboxMessage.platform.is_not(None), OutboxMessage.address.is_not(None))
        .order_by(OutboxMessage.id)
    )
    seen: dict[tuple[str, str], tuple[int, str, str, str]] = {}
    for team_id, platform, address, label in (await session.execute(stmt)).all():
        seen.setdefault((platform, address), (team_id, platform, address, label))
    return list(seen.values())


async def sent_message_ids(session: AsyncSession, *, platform: str, address: str, ref: str) -> list[str]:
    """The platform ids of messages about `ref` delivered to one chat (what an edit must change)."""
    stmt = (
        select(OutboxMessage.external_message_id)
        .where(OutboxMessage.ref == ref, OutboxMessage.platform == platform, OutboxMessage.address == address,
               OutboxMessage.kind != "edit", OutboxMessage.status == "sent",
               OutboxMessage.external_message_id.is_not(None))
        .order_by(OutboxMessage.id)
    )
    return [str(x) for x in (await session.execute(stmt)).scalars()]
