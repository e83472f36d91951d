"""A person's own record: where they live, whether they take direct messages, their phone.

Handlers hold the `Person` of the message being handled; these functions change it in the
caller's transaction (and flush, so the queries that follow see it) instead of handlers
setting columns on the ORM object themselves.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person


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
