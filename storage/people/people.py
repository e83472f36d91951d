"""A person's own record: where they live, whether they take direct messages, their phone.

Handlers hold the `Person` of the message being handled; these functions change it in the
caller's transaction (and flush, so the queries that follow see it) instead of handlers
setting columns on the ORM object themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity, Person


async def person_with_phone(session: AsyncSession, phone: str) -> Person | None:
    """The roster person with this phone number (the first registered), if any."""
    stmt = select(Person).where(Person.phone == phone).order_by(Person.id).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def set_home_unit(session: AsyncSession, person: Person, unit_id: int) -> None:
    """Record the village (station) a resident lives in (注册)."""
    person.org_unit_id = unit_id
    person.is_resident = True
    await session.flush()


async def set_dm_opt_in(session: AsyncSession, person: Person, on: bool) -> None:
    """Turn direct messages for broadcasts, new tasks and new activities on or off (免打扰/开启通知)."""
    person.dm_opt_in = on
    await session.flush()


async def keep_phone(session: AsyncSession, person: Person, phone: str) -> None:
    """Remember a proved phone number for a person who has none on record yet."""
    if not person.phone:
        person.phone = phone
        await session.flush()


async def resident_named_at(session: AsyncSession, name: str, unit_id: int) -> Person | None:
    """The person called `name` whose home is this village (the first registered, when names repeat)."""
    stmt = (select(Person).where(Person.name == name, Person.org_unit_id == unit_id)
            .order_by(Person.id).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_resident(session: AsyncSession, *, name: str, unit_id: int, now: datetime) -> Person:
    """A resident with no phone and no chat account (an elder someone orders for, 代点单)."""
    person = Person(name=name, org_unit_id=unit_id, is_resident=True, created_at=now)
    session.add(person)
    await session.flush()
    return person


async def has_chat_account(session: AsyncSession, person_id: int) -> bool:
    """Whether a person has a chat account the bot can still reach."""
    stmt = select(ChannelIdentity.id).where(ChannelIdentity.person_id == person_id,
                                            ChannelIdentity.reachable.is_(True)).limit(1)
    return (await session.execute(stmt)).first() is not None


async def people_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Person]:
    """The people with these ids, in one query (loaded into the session for what follows)."""
    if not ids:
        return []
    stmt = select(Person).where(Person.id.in_(sorted(set(ids))))
    return list((await session.execute(stmt)).scalars().all())
