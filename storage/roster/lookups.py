"""Shared pieces of the roster writers: per-file counts and chunked lookups by natural key.

Used by `storage.roster.importing` (the network files) and `storage.roster.programmes` (pairings,
goods, points rules), so both count and look up rows the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OrgUnit, Person, Team

CHUNK = 500  # keys per IN (...) query, well under every backend's parameter limit

M = TypeVar("M", OrgUnit, Team)


@dataclass
class FileCounts:
    """What importing one file did to its rows."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def tally(self, before: tuple[Any, ...] | None, after: tuple[Any, ...]) -> None:
        """Count one row from its state before (None: it is new) and after writing."""
        if before is None:
            self.created += 1
        elif before != after:
            self.updated += 1
        else:
            self.unchanged += 1


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """Slices of at most `size` items, for IN (...) lists."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


async def by_code(session: AsyncSession, model: type[M], codes: Iterable[str]) -> dict[str, M]:
    """Org units or teams by code."""
    found: dict[str, M] = {}
    for chunk in chunks(sorted(set(codes))):
        for obj in (await session.execute(select(model).where(model.code.in_(chunk)))).scalars():
            found[obj.code] = obj
    return found


async def people_by_phone(session: AsyncSession, phones: Iterable[str | None]) -> dict[str, Person]:
    """People by phone (blank phones ignored)."""
    found: dict[str, Person] = {}
    for chunk in chunks(sorted({p for p in phones if p})):
        for person in (await session.execute(select(Person).where(Person.phone.in_(chunk)))).scalars():
            found[person.phone or ""] = person
    return found
