"""People and their chat accounts: resolving `(platform, external_id)` to one person."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity, Person, RoleGrant


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
