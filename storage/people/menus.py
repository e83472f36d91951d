"""Whose chat is owed a command menu of its own: the roles behind each chat, and the menu it was given.

The roster decides what a menu should hold (who is a volunteer, who holds which role); the
`chat_menus` table remembers what each chat was last given. Reading both together lets a
channel bring every chat's menu in step with the roster, whatever changed it — joining a team,
a grant from the CLI or an import, an account linked by phone, a role taken away — without any
of those paths having to remember to owe a menu.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity, ChatMenu, Person, RoleGrant, TeamMember
from storage.sql import insert_ignoring


# Accounts read per query: a round over a province's volunteers goes in pages, never all at once.
PAGE = 2000


@dataclass(frozen=True)
class MenuHolder:
    """A chat that has, or should have, a menu of its own.

    `roles` are the kinds of role its person holds anywhere ("captain", "admin" …), with
    "volunteer" for a member of any team; `given` fingerprints the menu the chat was last set
    to (None: it shows the platform-wide one).
    """

    chat_id: str
    roles: frozenset[str]
    given: str | None


async def roster_mark(session: AsyncSession, platform: str) -> tuple[int, ...]:
    """Counts and sums over what menus depend on: when none moved, no chat is owed a new menu.

    One query the database answers from its indexes, so an idle round costs nothing like
    reading every account. It misses an edit that leaves every count and sum as it was (a
    grant's role changed in place): the keeper reads everything now and then regardless.
    """
    reachable = (ChannelIdentity.platform == platform, ChannelIdentity.reachable.is_(True))
    parts = [
        select(func.count()).select_from(ChannelIdentity).where(*reachable),
        select(func.sum(ChannelIdentity.id)).where(*reachable),
        select(func.sum(ChannelIdentity.person_id)).where(*reachable),  # an account linked to someone else
        select(func.count()).select_from(RoleGrant),
        select(func.sum(RoleGrant.id)),
        select(func.sum(func.length(RoleGrant.role))),
        select(func.count()).select_from(TeamMember),
        select(func.sum(TeamMember.person_id)),
        select(func.count()).select_from(Person).where(Person.is_volunteer),
        select(func.sum(Person.id)).where(Person.is_volunteer),
        select(func.count()).select_from(ChatMenu).where(ChatMenu.platform == platform),
    ]
    row = (await session.execute(select(*(part.scalar_subquery() for part in parts)))).one()
    return tuple(int(value or 0) for value in row)


async def role_kinds(session: AsyncSession, platform: str) -> dict[int, frozenset[str]]:
    """The kinds of role held by each person with an account on `platform` (grants are few: one query)."""
    on_platform = exists().where(ChannelIdentity.person_id == RoleGrant.person_id,
                                 ChannelIdentity.platform == platform)
    roles: dict[int, set[str]] = {}
    for pid, role in await session.execute(select(RoleGrant.person_id, RoleGrant.role).distinct().where(on_platform)):
        roles.setdefault(pid, set()).add(role)
    return {pid: frozenset(held) for pid, held in roles.items()}


async def menu_holders(session: AsyncSession, platform: str, roles: dict[int, frozenset[str]], *,
                       after: str = "", limit: int = PAGE) -> tuple[list[MenuHolder], str | None]:
    """One page of the private chats on `platform` whose person is more than a villager or was given a menu.

    Pages go by chat id, along the accounts' unique index (no sort, none of it read twice): pass
    the returned cursor as `after` for the next page (None: done).
    `roles` is `role_kinds`' answer for the same round.
    """
    member = exists().where(TeamMember.person_id == Person.id)
    granted = exists().where(RoleGrant.person_id == Person.id)
    rows = (await session.execute(
        select(ChannelIdentity.external_id, Person.id, Person.is_volunteer,
               member.label("in_team"), ChatMenu.menu)
        .join(Person, Person.id == ChannelIdentity.person_id)
        .outerjoin(ChatMenu, and_(ChatMenu.platform == platform, ChatMenu.chat_id == ChannelIdentity.external_id))
        .where(ChannelIdentity.platform == platform, ChannelIdentity.reachable.is_(True),
               ChannelIdentity.external_id > after,
               or_(Person.is_volunteer, member, granted, ChatMenu.menu.is_not(None)))
        .order_by(ChannelIdentity.external_id).limit(limit))).all()
    holders = [MenuHolder(chat_id, roles.get(pid, frozenset()) | ({"volunteer"} if volunteer or in_team
                                                                   else frozenset()), menu)
               for chat_id, pid, volunteer, in_team, menu in rows]
    return holders, (rows[-1][0] if len(rows) == limit else None)


async def orphaned_menus(session: AsyncSession, platform: str) -> list[MenuHolder]:
    """Chats given a menu whose account is gone or unreachable now: they hold nothing any more."""
    reachable = exists().where(ChannelIdentity.platform == platform, ChannelIdentity.external_id == ChatMenu.chat_id,
                               ChannelIdentity.reachable.is_(True))
    rows = await session.execute(select(ChatMenu.chat_id, ChatMenu.menu)
                                 .where(ChatMenu.platform == platform, ~reachable))
    return [MenuHolder(chat_id, frozenset(), menu) for chat_id, menu in rows]


async def record_menu(session: AsyncSession, *, platform: str, chat_id: str, menu: str, now: datetime) -> None:
    """Remember that a chat was given the menu `menu` (two workers recording it at once is harmless)."""
    await session.execute(insert_ignoring(session, ChatMenu).values(platform=platform, chat_id=chat_id,
                                                                     menu=menu, set_at=now))
    await session.execute(update(ChatMenu).where(ChatMenu.platform == platform, ChatMenu.chat_id == chat_id)
                          .values(menu=menu, set_at=now))


async def forget_menu(session: AsyncSession, *, platform: str, chat_id: str) -> None:
    """The chat shows the platform-wide menu again: nothing of its own to remember."""
    await session.execute(delete(ChatMenu).where(ChatMenu.platform == platform, ChatMenu.chat_id == chat_id))
