"""Operations for the WeChat channels: contact windows, numbered choices, WeCom team groups.

Like `storage/tasks.py`, each operation is one conditional statement whose WHERE clause
carries its precondition, and committing is left to the caller: two workers taking the last
customer-service slot of a window cannot both get it, on SQLite or PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity, RoleGrant, Team, TeamGroup, TeamMember
from storage.models.wechat import ContactWindow, NumberedChoices
from storage.sql import rowcount


async def _upsert(session: AsyncSession, model: type[Any], key: dict[str, Any], values: dict[str, Any]) -> None:
    """Update the row with this key, or insert it; a concurrent insert turns into an update."""
    where = [getattr(model, k) == v for k, v in key.items()]
    if rowcount(await session.execute(update(model).where(*where).values(**values))):
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
        if rowcount(fresh):
            return True
        counted = await session.execute(
            update(ContactWindow)
            .where(*key, ContactWindow.window_start == started, ContactWindow.cs_sent < limit)
            .values(cs_sent=ContactWindow.cs_sent + 1)
        )
        if rowcount(counted):
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


async def is_group_chat(session: AsyncSession, *, platform: str, chat_id: str) -> bool:
    """Whether an address is a bound team group chat on this platform."""
    found = (await session.execute(
        select(TeamGroup.id).where(TeamGroup.platform == platform, TeamGroup.chat_id == chat_id).limit(1)
    )).scalar_one_or_none()
    return found is not None


@dataclass(frozen=True)
class GroupRoster:
    """What creating a team's group chat on a platform needs to know."""

    team_id: int
    team_code: str
    team_name: str
    bound_chat_id: str | None
    # Members' reachable accounts on the platform, oldest link first, each once.
    members: list[str]
    # Those of the team's captains.
    captains: set[str]


async def group_roster(session: AsyncSession, *, team_id: int, platform: str) -> GroupRoster | None:
    """A team's existing group on the platform and its members' accounts there; None if no such team."""
    team = await session.get(Team, team_id)
    if team is None:
        return None
    bound = (await session.execute(
        select(TeamGroup.chat_id).where(TeamGroup.team_id == team_id, TeamGroup.platform == platform)
    )).scalars().first()
    members = (await session.execute(
        select(ChannelIdentity.external_id)
        .join(TeamMember, TeamMember.person_id == ChannelIdentity.person_id)
        .where(TeamMember.team_id == team_id, ChannelIdentity.platform == platform,
               ChannelIdentity.reachable.is_(True))
        .order_by(ChannelIdentity.id)
    )).scalars().all()
    captains = (await session.execute(
        select(ChannelIdentity.external_id)
        .join(RoleGrant, RoleGrant.person_id == ChannelIdentity.person_id)
        .where(RoleGrant.role == "captain", RoleGrant.team_id == team_id, ChannelIdentity.platform == platform)
    )).scalars().all()
    return GroupRoster(team_id=team.id, team_code=team.code, team_name=team.name, bound_chat_id=bound,
                       members=list(dict.fromkeys(members)), captains=set(captains))


async def bind_team_group(session: AsyncSession, *, team_id: int, platform: str, chat_id: str, title: str) -> bool:
    """Bind a group chat to a team unless it is bound already; False when it was."""
    try:
        async with session.begin_nested():
            session.add(TeamGroup(team_id=team_id, platform=platform, chat_id=chat_id, title=title))
        return True
    except IntegrityError:
        return False  # bound by a concurrent call a moment ago
