"""Whether a chat can still be reached, and where it moved: what delivery outcomes say about a chat.

A person's chat account is unreachable when `ChannelIdentity.reachable` is false (blocked the
bot, unfollowed, left the company); messages to the person then go to another account of
theirs. A team's group chat is unreachable while it has an `UnreachableChat` row (the bot was
kicked, the chat dissolved); the team's notices then skip it. Both come back when the chat
speaks to the bot again. A group that changes its address takes its binding and every
message still owed to it along.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity, OutboxMessage, TeamGroup
from storage.models.messaging import UnreachableChat
from storage.sql import rowcount


def reachable_group() -> ColumnElement[bool]:
    """A condition on `TeamGroup`: the bot can still post in the group."""
    gone = select(UnreachableChat.address).where(
        UnreachableChat.platform == TeamGroup.platform, UnreachableChat.address == TeamGroup.chat_id)
    return ~gone.exists()


async def set_reachable(session: AsyncSession, *, platform: str, external_id: str, reachable: bool) -> int:
    """Mark a chat account reachable or not; returns rows changed."""
    result = await session.execute(
        update(ChannelIdentity)
        .where(ChannelIdentity.platform == platform, ChannelIdentity.external_id == external_id)
        .values(reachable=reachable)
    )
    return rowcount(result)


async def mark_unreachable(session: AsyncSession, *, platform: str, address: str, reason: str, now: datetime) -> None:
    """The platform says this chat is gone: its account unreachable, or its group skipped, and nothing more owed to it.

    Messages still pending for the chat are kept as undeliverable now rather than each failing
    against the platform in turn.
    """
    await set_reachable(session, platform=platform, external_id=address, reachable=False)
    is_group = (await session.execute(
        select(TeamGroup.id).where(TeamGroup.platform == platform, TeamGroup.chat_id == address).limit(1)
    )).scalar_one_or_none() is not None
    if is_group:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await session.execute(
            insert(UnreachableChat).values(platform=platform, address=address, since=now, reason=reason[:2000])
            .on_conflict_do_nothing(index_elements=["platform", "address"])
        )
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.platform == platform, OutboxMessage.address == address,
               OutboxMessage.status == "pending")
        .values(status="undeliverable", error=f"recipient gone: {reason}"[:2000])
    )


async def revive_chat(session: AsyncSession, *, platform: str, chat_id: str) -> None:
    """A message came from this group chat: the bot is in it again."""
    await session.execute(
        delete(UnreachableChat).where(UnreachableChat.platform == platform, UnreachableChat.address == chat_id)
    )


async def readdress_chat(session: AsyncSession, *, platform: str, old: str, new: str) -> None:
    """A chat's address changed: its team binding and every message owed to it follow."""
    if old == new:
        return
    already = (await session.execute(
        select(TeamGroup.id).where(TeamGroup.platform == platform, TeamGroup.chat_id == new).limit(1)
    )).scalar_one_or_none()
    if already is None:
        await session.execute(
            update(TeamGroup).where(TeamGroup.platform == platform, TeamGroup.chat_id == old).values(chat_id=new)
        )
    else:  # the new chat was bound too (a captain ran /bindgroup there): one binding is enough
        await session.execute(delete(TeamGroup).where(TeamGroup.platform == platform, TeamGroup.chat_id == old))
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.platform == platform, OutboxMessage.address == old,
               OutboxMessage.status.in_(["pending", "sending"]))
        .values(address=new)
    )
    await session.execute(
        delete(UnreachableChat).where(UnreachableChat.platform == platform, UnreachableChat.address == old)
    )


async def unreachable_chats(session: AsyncSession, *, platform: str) -> list[str]:
    """The addresses of a platform's group chats that are marked unreachable."""
    stmt = select(UnreachableChat.address).where(UnreachableChat.platform == platform).order_by(UnreachableChat.address)
    return list((await session.execute(stmt)).scalars())
