"""Operations on the WeChat channels' tables: contact windows and numbered choices.

Like `storage/tasks.py`, each operation is one conditional statement whose WHERE clause
carries its precondition, and committing is left to the caller: two workers taking the last
customer-service slot of a window cannot both get it, on SQLite or PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity, OutboxMessage, TeamGroup, TeamMember
from storage.models.wechat import ContactWindow, NumberedChoices

# `external_message_id` of an outbox row that went out as a callback's passive reply.
PASSIVE = "passive"


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0))


async def _upsert(session: AsyncSession, model: type[Any], key: dict[str, Any], values: dict[str, Any]) -> None:
    """Update the row with this key, or insert it; a concurrent insert turns into an update."""
    where = [getattr(model, k) == v for k, v in key.items()]
    if _rowcount(await session.execute(update(model).where(*where).values(**values))):
        return
    try:
        async with session.begin_nested():
            session.add(model(**key, **values))
    except IntegrityError:
        await session.execute(update(model).where(*where).values(**values))


async def last_action(session: AsyncSession, *, platform: str, user_id: str) -> tuple[datetime | None, bool]:
    """When the account last acted (its `last_seen_at`) and whether it is reachable."""
    row = (await session.execute(
        select(ChannelIdentity.last_seen_at, ChannelIdentity.reachable)
        .where(ChannelIdentity.platform == platform, ChannelIdentity.external_id == user_id)
    )).first()
    if row is None:
        return None, True
    return row[0], row[1] is not False


async def touch_identity(session: AsyncSession, *, platform: str, user_id: str, now: datetime) -> None:
    """Record an action that is no message (a menu link opened): it opens the window too."""
    await session.execute(
        update(ChannelIdentity)
        .where(ChannelIdentity.platform == platform, ChannelIdentity.external_id == user_id)
        .values(last_seen_at=now)
    )


async def take_cs_slot(
    session: AsyncSession,
    *,
    platform: str,
    user_id: str,
    started: datetime | None,
    now: datetime,
    window: timedelta,
    limit: int,
) -> bool:
    """Take one customer-service message of the window that `started` at the user's last action.

    False when there is no open window or its count is used up. A window that started later
    than the one counted so far starts a new count.
    """
    if started is None or now - started >= window or limit < 1:
        return False
    key = (ContactWindow.platform == platform, ContactWindow.user_id == user_id)
    for _ in range(2):
        fresh = await session.execute(
            update(ContactWindow).where(*key, ContactWindow.window_start < started)
            .values(window_start=started, cs_sent=1)
        )
        if _rowcount(fresh):
            return True
        counted = await session.execute(
            update(ContactWindow)
            .where(*key, ContactWindow.window_start == started, ContactWindow.cs_sent < limit)
            .values(cs_sent=ContactWindow.cs_sent + 1)
        )
        if _rowcount(counted):
            return True
        if await session.get(ContactWindow, (platform, user_id)) is not None:
            return False
        try:
            async with session.begin_nested():
                session.add(ContactWindow(platform=platform, user_id=user_id, window_start=started, cs_sent=1))
            return True
        except IntegrityError:
            continue  # another worker counted the first message a moment ago: count again
    return False


async def return_cs_slot(session: AsyncSession, *, platform: str, user_id: str, started: datetime) -> None:
    """Give back a slot whose message did not go out (a network error, not a refusal)."""
    await session.execute(
        update(ContactWindow)
        .where(ContactWindow.platform == platform, ContactWindow.user_id == user_id,
               ContactWindow.window_start == started, ContactWindow.cs_sent > 0)
        .values(cs_sent=ContactWindow.cs_sent - 1)
    )


async def close_window(session: AsyncSession, *, platform: str, user_id: str, started: datetime, limit: int) -> None:
    """Use up the window (WeChat said 45015/45047): no more attempts until the user acts again."""
    await _upsert(session, ContactWindow, {"platform": platform, "user_id": user_id},
                  {"window_start": started, "cs_sent": limit})


async def window_of(session: AsyncSession, *, platform: str, user_id: str) -> ContactWindow | None:
    """The user's window count, if anything was ever sent to them."""
    return await session.get(ContactWindow, (platform, user_id))


async def save_choices(
    session: AsyncSession, *, platform: str, chat_id: str, choices: list[str], now: datetime
) -> None:
    """Remember the buttons just shown in a chat as numbered text."""
    await _upsert(session, NumberedChoices, {"platform": platform, "chat_id": chat_id},
                  {"choices": list(choices), "shown_at": now})


async def group_chat_ids(session: AsyncSession, *, platform: str, user_id: str) -> list[str]:
    """The bound group chats (on this platform) of every team the account's person is in."""
    stmt = (
        select(TeamGroup.chat_id)
        .join(TeamMember, TeamMember.team_id == TeamGroup.team_id)
        .join(ChannelIdentity, ChannelIdentity.person_id == TeamMember.person_id)
        .where(TeamGroup.platform == platform, ChannelIdentity.platform == platform,
               ChannelIdentity.external_id == user_id)
    )
    return list((await session.execute(stmt)).scalars().all())


async def choice_for(
    session: AsyncSession, *, platform: str, chat_ids: list[str], number: int, now: datetime, ttl: timedelta
) -> str | None:
    """What reply `number` means: the newest choices shown in any of `chat_ids` within `ttl`."""
    if not chat_ids or number < 1:
        return None
    row = (await session.execute(
        select(NumberedChoices)
        .where(NumberedChoices.platform == platform, NumberedChoices.chat_id.in_(chat_ids),
               NumberedChoices.shown_at >= now - ttl)
        .order_by(NumberedChoices.shown_at.desc())
        .limit(1)
    )).scalar_one_or_none()
    if row is None or number > len(row.choices):
        return None
    return str(row.choices[number - 1])


async def set_reachable(session: AsyncSession, *, platform: str, external_id: str, reachable: bool) -> int:
    """Mark a chat account reachable or not (unsubscribed, blocked); returns rows changed."""
    result = await session.execute(
        update(ChannelIdentity)
        .where(ChannelIdentity.platform == platform, ChannelIdentity.external_id == external_id)
        .values(reachable=reachable)
    )
    return _rowcount(result)


async def is_group_chat(session: AsyncSession, *, platform: str, chat_id: str) -> bool:
    """Whether an address is a bound team group chat on this platform."""
    found = (await session.execute(
        select(TeamGroup.id).where(TeamGroup.platform == platform, TeamGroup.chat_id == chat_id).limit(1)
    )).scalar_one_or_none()
    return found is not None


async def unsend_passive(session: AsyncSession, row_ids: list[int]) -> int:
    """Put rows claimed for a passive reply that was never sent back in the outbox (the relay sends them)."""
    if not row_ids:
        return 0
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(row_ids), OutboxMessage.status == "sent",
               OutboxMessage.external_message_id == PASSIVE)
        .values(status="pending", sent_at=None, external_message_id=None)
    )
    return _rowcount(result)
