"""Team group chats (队伍群): binding a group to the team it serves, and unbinding it.

A group serves one team (a unique key on platform + chat id), so two captains binding the
same group at the same moment cannot both succeed.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import TeamGroup


async def binding_of_chat(session: AsyncSession, *, platform: str, chat_id: str) -> TeamGroup | None:
    """The binding of one group chat, if it serves a team."""
    stmt = select(TeamGroup).where(TeamGroup.platform == platform, TeamGroup.chat_id == chat_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def bind_chat(session: AsyncSession, *, team_id: int, platform: str, chat_id: str,
                    title: str | None) -> TeamGroup | None:
    """Bind a group chat to a team; None when another team took the chat a moment ago."""
    row = TeamGroup(team_id=team_id, platform=platform, chat_id=chat_id, title=title)
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


async def unbind_chat(session: AsyncSession, binding: TeamGroup) -> None:
    """Remove a group chat's binding: the team's messages no longer go there."""
    await session.delete(binding)
    await session.flush()


async def group_count(session: AsyncSession, team_id: int) -> int:
    """How many group chats a team has bound."""
    stmt = select(func.count(TeamGroup.id)).where(TeamGroup.team_id == team_id)
    return int((await session.execute(stmt)).scalar_one())
