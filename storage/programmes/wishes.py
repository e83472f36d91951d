"""Wish transitions (微心愿): submit → publish → claim → fulfil → confirm, each one conditional UPDATE.

The WHERE clause of each step carries its precondition, so of two volunteers claiming the
same wish at once exactly one wins (SQLite writers queue; PostgreSQL locks the row and
re-checks the condition). Functions take the session as a keyword argument and leave
committing to the caller, so a step, its audit row and its messages commit together.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import id_in_range
from storage.models import OrgUnit, Person, RoleGrant, TeamMember
from storage.models.wishes import Wish, WishStatus
from storage.people.network import in_subtree
from storage.sql import rowcount


class ClaimResult(enum.Enum):
    """How a claim ended."""

    won = "won"
    already = "already"
    taken = "taken"
    not_open = "not_open"


async def wish_by_id(*, session: AsyncSession, wish_id: int) -> Wish | None:
    """A wish as it stands now (after this session's own conditional UPDATEs), or None (also for an id no wish can have)."""
    if not id_in_range(Wish, wish_id):
        return None
    stmt = select(Wish).where(Wish.id == wish_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


def _changed(result: object) -> bool:
    return rowcount(result) == 1


async def submit_wish(
    *, session: AsyncSession, org_unit_id: int, household: str, description: str, submitted_by_id: int,
    now: datetime,
) -> Wish:
    """Record a household's wish (心愿), waiting to be published."""
    wish = Wish(org_unit_id=org_unit_id, household=household, description=description,
                status=WishStatus.submitted.value, submitted_by_id=submitted_by_id, created_at=now, proof=[])
    session.add(wish)
    await session.flush()
    return wish


async def publish_wish(*, session: AsyncSession, wish_id: int, by_id: int, now: datetime) -> bool:
    """Publish a submitted wish so volunteers may claim it (发布心愿)."""
    return _changed(await session.execute(
        update(Wish).where(Wish.id == wish_id, Wish.status == WishStatus.submitted.value)
        .values(status=WishStatus.published.value, published_by_id=by_id, published_at=now)
        .execution_options(synchronize_session=False)))


async def claim_wish(*, session: AsyncSession, wish_id: int, volunteer_id: int, now: datetime) -> ClaimResult:
    """Claim a published wish (认领): exactly one volunteer ever wins it."""
    won = _changed(await session.execute(
        update(Wish).where(Wish.id == wish_id, Wish.status == WishStatus.published.value,
                           Wish.claimed_by_id.is_(None))
        .values(status=WishStatus.claimed.value, claimed_by_id=volunteer_id, claimed_at=now)
        .execution_options(synchronize_session=False)))
    if won:
        return ClaimResult.won
    status, claimant = (await session.execute(
        select(Wish.status, Wish.claimed_by_id).where(Wish.id == wish_id))).one()
    if claimant == volunteer_id:
        return ClaimResult.already
    if claimant is not None:
        return ClaimResult.taken
    return ClaimResult.not_open


async def fulfil_wish(
    *, session: AsyncSession, wish_id: int, volunteer_id: int, proof: list[dict[str, Any]], now: datetime
) -> bool:
    """Mark a claimed wish fulfilled (实现) by its claimant, with the photo (or text) proof."""
    if not proof:
        raise ValueError("a wish is fulfilled with proof")
    return _changed(await session.execute(
        update(Wish).where(Wish.id == wish_id, Wish.status == WishStatus.claimed.value,
                           Wish.claimed_by_id == volunteer_id)
        .values(status=WishStatus.fulfilled.value, proof=proof, fulfilled_at=now)
        .execution_options(synchronize_session=False)))


async def confirm_wish(*, session: AsyncSession, wish_id: int, by_id: int, now: datetime) -> bool:
    """Confirm a fulfilled wish (确认心愿): the household really got it."""
    return _changed(await session.execute(
        update(Wish).where(Wish.id == wish_id, Wish.status == WishStatus.fulfilled.value)
        .values(status=WishStatus.confirmed.value, confirmed_by_id=by_id, confirmed_at=now)
        .execution_options(synchronize_session=False)))


async def wishes_under(
    *, session: AsyncSession, unit: OrgUnit, statuses: tuple[str, ...] | None = None, limit: int = 10
) -> list[Wish]:
    """Wishes of villages in a unit's subtree, newest first."""
    stmt = select(Wish).join(OrgUnit, OrgUnit.id == Wish.org_unit_id).where(in_subtree(OrgUnit.path, unit.path))
    if statuses:
        stmt = stmt.where(Wish.status.in_(statuses))
    return list((await session.execute(stmt.order_by(Wish.id.desc()).limit(limit))).scalars())


async def wishes_claimed_by(*, session: AsyncSession, volunteer_id: int, limit: int = 10) -> list[Wish]:
    """The wishes a volunteer claimed, newest first."""
    stmt = select(Wish).where(Wish.claimed_by_id == volunteer_id).order_by(Wish.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def federation_admins_over(*, session: AsyncSession, unit: OrgUnit) -> list[Person]:
    """The federation admins (志愿服务联合会) whose scope covers a unit, by id, each once."""
    rows = (await session.execute(
        select(Person, OrgUnit.path).join(RoleGrant, RoleGrant.person_id == Person.id)
        .join(OrgUnit, OrgUnit.id == RoleGrant.org_unit_id)
        .where(RoleGrant.role == "federation_admin").order_by(Person.id)
    )).all()
    return list({p.id: p for p, path in rows if unit.path.startswith(path)}.values())


async def team_member_ids(*, session: AsyncSession, team_id: int) -> set[int]:
    """The people in a team (a published wish reaches each of them once)."""
    rows = await session.execute(select(TeamMember.person_id).where(TeamMember.team_id == team_id))
    return set(rows.scalars())
