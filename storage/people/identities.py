"""People and their chat accounts: resolving `(platform, external_id)` to one person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity, ConversationState, Person, RoleGrant

# `last_seen_at` (the account's last action: which account is preferred, when WeChat's window
# opened) is written at most this often, not on every message.
SEEN_EVERY = timedelta(minutes=1)


@dataclass
class Identified:
    """Who wrote a message: the person, their roles, and their conversation's state row as it is now."""

    person: Person
    roles: list[RoleGrant]
    # The state row's (data, expires_at), or None when the conversation has none.
    state: tuple[dict[str, Any], datetime | None] | None


# Built once: run on every message, a statement built anew costs its construction and its cache
# key each time (about 0.8 ms here, as much as the query itself).
_IDENTIFY = (
    select(Person, ChannelIdentity.last_seen_at, ChannelIdentity.reachable, RoleGrant,
           ConversationState.data, ConversationState.expires_at)
    .join(ChannelIdentity, ChannelIdentity.person_id == Person.id)
    .outerjoin(RoleGrant, RoleGrant.person_id == Person.id)
    .outerjoin(ConversationState, ConversationState.key == bindparam("state_key"))
    .where(ChannelIdentity.platform == bindparam("platform"),
           ChannelIdentity.external_id == bindparam("external_id"))
    .order_by(RoleGrant.id)
)


async def identify(
    session: AsyncSession, *, platform: str, external_id: str, now: datetime, state_key: str,
    display_name: str | None = None,
) -> Identified:
    """The person behind a chat account, their roles and their conversation state — in one query.

    The account's `last_seen_at` is written only when it is a minute old (or the account was
    marked unreachable and has spoken again); a first contact creates the person, as
    `resolve_identity` does.
    """
    rows = (await session.execute(_IDENTIFY, {"platform": platform, "external_id": external_id,
                                              "state_key": state_key})).all()
    if not rows:
        person = await resolve_identity(session, platform=platform, external_id=external_id, now=now,
                                        display_name=display_name)
        state = (await session.execute(select(ConversationState.data, ConversationState.expires_at)
                                       .where(ConversationState.key == state_key))).first()
        return Identified(person, await roles_of(session, person.id),
                          None if state is None else (dict(state[0] or {}), state[1]))
    person, seen, reachable, _, data, expires = rows[0]
    if not reachable or seen is None or now - seen >= SEEN_EVERY:
        await session.execute(
            update(ChannelIdentity)
            .where(ChannelIdentity.platform == platform, ChannelIdentity.external_id == external_id)
            .values(last_seen_at=now, reachable=True)
        )
    roles = [row[3] for row in rows if row[3] is not None]
    state_row = None if data is None and expires is None else (dict(data or {}), expires)
    return Identified(person, roles, state_row)


async def resolve_identity(
    session: AsyncSession,
    *,
    platform: str,
    external_id: str,
    now: datetime,
    display_name: str | None = None,
) -> Person:
    """The person behind a chat account, creating a new (unregistered) person on first contact."""
    stmt = (
        select(Person)
        .join(ChannelIdentity, ChannelIdentity.person_id == Person.id)
        .where(ChannelIdentity.platform == platform, ChannelIdentity.external_id == external_id)
    )
    person = (await session.execute(stmt)).scalar_one_or_none()
    if person is not None:
        await session.execute(
            update(ChannelIdentity)
            .where(ChannelIdentity.platform == platform, ChannelIdentity.external_id == external_id)
            .values(last_seen_at=now, reachable=True)
        )
        return person
    person = Person(name=display_name or f"{platform}用户", created_at=now)
    session.add(person)
    await session.flush()
    try:
        async with session.begin_nested():
            session.add(
                ChannelIdentity(
                    platform=platform,
                    external_id=external_id,
                    person_id=person.id,
                    display_name=display_name,
                    last_seen_at=now,
                )
            )
    except IntegrityError:
        # Another worker registered the same account a moment ago: use theirs.
        await session.delete(person)
        return (await session.execute(stmt)).scalar_one()
    return person


async def link_identity(
    session: AsyncSession, *, platform: str, external_id: str, person_id: int, now: datetime
) -> None:
    """Point a chat account at a roster person (joining by invite, a proved phone, the console)."""
    result = await session.execute(
        update(ChannelIdentity)
        .where(ChannelIdentity.platform == platform, ChannelIdentity.external_id == external_id)
        .values(person_id=person_id, last_seen_at=now)
    )
    if getattr(result, "rowcount", 0) == 0:
        session.add(
            ChannelIdentity(platform=platform, external_id=external_id, person_id=person_id, last_seen_at=now)
        )
        await session.flush()


async def roles_of(session: AsyncSession, person_id: int) -> list[RoleGrant]:
    """Every role grant a person holds."""
    stmt = select(RoleGrant).where(RoleGrant.person_id == person_id).order_by(RoleGrant.id)
    return list((await session.execute(stmt)).scalars())


async def find_person(session: AsyncSession, who: str) -> Person | None:
    """A person by phone or exact name (the first registered, when names repeat)."""
    stmt = select(Person).where((Person.phone == who) | (Person.name == who)).order_by(Person.id).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()
