"""The outbox: messages owed, written with the change that causes them, delivered by a relay.

Writing: `enqueue_*`, in the transaction of the change. Delivering: the relay takes what is
due (`pending`), claims each row (`claim`) and records what the channel reported through
`apply_outcome` — the one place a delivery attempt changes the database. Replies that went
out inside the platform's answer to the user are recorded by `deliver_inline`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.messaging.outcomes import (
    ChatMoved,
    Delivered,
    DeliveryOutcome,
    RecipientGone,
    TemporaryFailure,
    Throttled,
)
from storage.messaging.reach import mark_unreachable, reachable_group, readdress_chat
from storage.messaging.wechat import save_choices
from storage.models import ChannelIdentity, OutboxMessage, Person, TeamGroup, TeamMember
from storage.sql import rowcount

# Failed attempts before a message is kept as undeliverable.
MAX_ATTEMPTS = 8
# The wait after a failed attempt: 5 s, doubling, at most 15 minutes (about 10 minutes in all).
BACKOFF_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 900.0



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
    """The group chats bound to a team that the bot can still post in."""
    stmt = select(TeamGroup).where(TeamGroup.team_id == team_id, reachable_group()).order_by(TeamGroup.id)
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
    session: AsyncSession, *, platforms: list[str] | None, include_unaddressed: bool, now: datetime, limit: int = 200
) -> list[OutboxMessage]:
    """Messages owed and due at `now` on the given platforms, oldest first.

    A row waiting for its `not_before` holds back the later rows to the same chat too, so a
    throttled chat's messages still arrive in order.
    """
    earlier = aliased(OutboxMessage)
    held_back = (
        select(earlier.id)
        .where(earlier.status == "pending", earlier.platform == OutboxMessage.platform,
               earlier.address == OutboxMessage.address, earlier.id < OutboxMessage.id, earlier.not_before > now)
        .exists()
    )
    stmt = select(OutboxMessage).where(
        OutboxMessage.status == "pending",
        or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now),
        ~held_back,
    )
    conds = []
    if platforms is not None:
        conds.append(OutboxMessage.platform.in_(platforms))
    if include_unaddressed:
        conds.append(OutboxMessage.platform.is_(None))
    if platforms is not None or include_unaddressed:
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
    return rowcount(result) == 1


async def reclaim_stale(session: AsyncSession, *, older_than: datetime) -> int:
    """Put back messages a crashed relay claimed but never finished (at-least-once delivery)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.sent_at < older_than)
        .values(status="pending")
    )
    return rowcount(result)


def retry_delay(attempts: int) -> timedelta:
    """The wait after failed attempt number `attempts` (exponential, capped)."""
    return timedelta(seconds=min(BACKOFF_CAP_SECONDS, BACKOFF_SECONDS * 2 ** max(0, attempts - 1)))


async def apply_outcome(
    session: AsyncSession, row: OutboxMessage, outcome: DeliveryOutcome, *, now: datetime,
    max_attempts: int = MAX_ATTEMPTS,
) -> str:
    """Record what became of a claimed message, and what it says about its chat; returns the row's status.

    - delivered: sent, with the platform's id (and the numbered choices it showed);
    - recipient gone: undeliverable, with every message still owed to that chat, and the chat
      account or group marked unreachable;
    - throttled: back to pending until the retry-after has passed, no attempt counted;
    - chat moved: the group binding and every message owed to the old address follow the new
      one, this row included, no attempt counted;
    - temporary failure: an attempt counted, pending again after a backoff, undeliverable after
      `max_attempts`;
    - refused: undeliverable (the request can never succeed), the recipient left alone.
    """
    mine = (OutboxMessage.id == row.id, OutboxMessage.status == "sending")
    if isinstance(outcome, Delivered):
        await session.execute(update(OutboxMessage).where(*mine).values(
            status="sent", sent_at=now, not_before=None, external_message_id=outcome.external_id))
        if outcome.numbered and row.platform and row.address:
            await save_choices(session, platform=row.platform, chat_id=row.address,
                               choices=list(outcome.numbered), now=now)
        return "sent"
    if isinstance(outcome, Throttled):
        await session.execute(update(OutboxMessage).where(*mine).values(
            status="pending", sent_at=None, error=outcome.reason,
            not_before=now + timedelta(seconds=max(0.0, outcome.retry_after))))
        return "pending"
    if isinstance(outcome, ChatMoved):
        if row.platform and row.address:
            await readdress_chat(session, platform=row.platform, old=row.address, new=outcome.new_address)
        await session.execute(update(OutboxMessage).where(*mine).values(
            status="pending", sent_at=None, error=outcome.reason, address=outcome.new_address))
        return "pending"
    if isinstance(outcome, TemporaryFailure):
        attempts = row.attempts + 1
        final = attempts >= max_attempts
        await session.execute(update(OutboxMessage).where(*mine).values(
            status="undeliverable" if final else "pending", attempts=OutboxMessage.attempts + 1,
            error=outcome.reason, sent_at=None, not_before=None if final else now + retry_delay(attempts)))
        return "undeliverable" if final else "pending"
    # RecipientGone and Refused: kept as undeliverable, never dropped.
    await session.execute(update(OutboxMessage).where(*mine).values(
        status="undeliverable", attempts=OutboxMessage.attempts + 1, error=outcome.reason))
    if isinstance(outcome, RecipientGone) and row.platform and row.address:
        await mark_unreachable(session, platform=row.platform, address=row.address, reason=outcome.reason, now=now)
    return "undeliverable"


async def deliver_inline(
    session: AsyncSession, row_ids: Sequence[int], *, external_id: str, now: datetime, numbered: bool = False
) -> list[OutboxMessage]:
    """Claim owed messages that went out inside the platform's answer to the user, and mark them sent.

    The one path for replies delivered without the relay: a Telegram button press answered
    with an alert, a WeChat callback's passive reply. Rows the relay took first are skipped
    (they go out as messages); the ones claimed are returned in the order given. With
    `numbered`, their buttons were shown as one run of numbered choices in their chat.
    """
    if not row_ids:
        return []
    rows = {r.id: r for r in (await session.execute(
        select(OutboxMessage).where(OutboxMessage.id.in_(list(row_ids))))).scalars()}
    claimed: list[OutboxMessage] = []
    for row_id in row_ids:
        result = await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")
            .values(status="sent", sent_at=now, not_before=None, external_message_id=external_id))
        if rowcount(result) == 1 and row_id in rows:
            claimed.append(rows[row_id])
    choices = [str(b["data"]) for r in claimed for b in r.buttons or []]
    if numbered and choices and claimed[0].platform and claimed[0].address:
        await save_choices(session, platform=claimed[0].platform, chat_id=claimed[0].address, choices=choices,
                           now=now)
    return claimed


async def undo_inline(session: AsyncSession, row_ids: Sequence[int], *, external_id: str) -> int:
    """Hand rows claimed for an inline answer that never went out back to the relay."""
    if not row_ids:
        return 0
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(row_ids)), OutboxMessage.status == "sent",
               OutboxMessage.external_message_id == external_id)
        .values(status="pending", sent_at=None, external_message_id=None)
    )
    return rowcount(result)


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
