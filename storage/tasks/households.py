"""Who lives together, as far as the records tell: phones and the addresses people ordered to.

A volunteer may not take a task ordered for their own household (issue 12): the same phone, or
the same address when both are known. A person's address is known from the tasks they ordered
for themselves (their `place`); phones from the roster, a proved contact, or the task itself.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person, Task

_NOT_ADDRESS = re.compile(r"[\s,，.。、:：;；!！?？()（）\-—_#＃]+")


def phone_key(phone: str | None) -> str:
    """A phone as digits only, without China's country code ("+86 139-0000-0001" → "13900000001")."""
    digits = re.sub(r"\D", "", phone or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix):]
    return digits


def address_key(place: str | None) -> str:
    """An address as compared: full-width folded, spaces and punctuation dropped ("3号楼 2单元" = "3号楼2单元")."""
    return _NOT_ADDRESS.sub("", unicodedata.normalize("NFKC", place or "")).lower()


async def own_places(session: AsyncSession, person_id: int, *, excluding_task_id: int | None = None) -> set[str]:
    """The addresses (as `address_key`) a person gave when ordering for themselves."""
    stmt = select(Task.place).where(Task.resident_id == person_id, Task.created_by_id == person_id,
                                    Task.place.is_not(None))
    if excluding_task_id is not None:
        stmt = stmt.where(Task.id != excluding_task_id)
    return {key for key in (address_key(p) for p in (await session.execute(stmt)).scalars()) if key}


async def phones_of_task(session: AsyncSession, task: Task) -> set[str]:
    """The phones a task is reached on: its contact phone and its resident's (as `phone_key`)."""
    resident = await session.get(Person, task.resident_id)
    phones = {phone_key(task.phone), phone_key(resident.phone if resident is not None else None)}
    return {p for p in phones if p}
