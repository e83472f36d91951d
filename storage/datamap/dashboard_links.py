"""Dashboard login: issue a one-time link for an admin's scope, trade it for a session, check the session.

Redeeming is one conditional UPDATE (`used_at IS NULL AND expires_at > now`), so a link
opened twice — or by two browsers at once — opens exactly one session. A session is only
valid while its admin still holds an admin role over its unit: revoking the role logs them out.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OrgUnit, Person, RoleGrant
from storage.models.dashboard import DashboardLink, DashboardSession
from storage.sql import rowcount

LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=12)


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_link(
    *, session: AsyncSession, person_id: int, org_unit_id: int, now: datetime, ttl: timedelta = LINK_TTL
) -> str:
    """A fresh one-time login token for an admin's scope (the caller commits)."""
    token = secrets.token_urlsafe(24)
    session.add(DashboardLink(token_hash=hash_token(token), person_id=person_id, org_unit_id=org_unit_id,
                              created_at=now, expires_at=now + ttl))
    await session.flush()
    return token


async def redeem_link(
    *, session: AsyncSession, token: str, now: datetime, ttl: timedelta = SESSION_TTL
) -> str | None:
    """Use a link once and open a session; the session's token, or None if the link is spent or expired."""
    result = await session.execute(
        update(DashboardLink)
        .where(DashboardLink.token_hash == hash_token(token), DashboardLink.used_at.is_(None),
               DashboardLink.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return None
    link = (await session.execute(
        select(DashboardLink).where(DashboardLink.token_hash == hash_token(token)))).scalar_one()
    session_token = secrets.token_urlsafe(32)
    session.add(DashboardSession(token_hash=hash_token(session_token), person_id=link.person_id,
                                 org_unit_id=link.org_unit_id, created_at=now, expires_at=now + ttl))
    await session.flush()
    return session_token


async def session_scope(
    *, session: AsyncSession, token: str, now: datetime
) -> tuple[Person, OrgUnit] | None:
    """The admin and the unit a live session may see; None when expired, unknown or revoked."""
    row = (await session.execute(
        select(DashboardSession).where(DashboardSession.token_hash == hash_token(token),
                                       DashboardSession.expires_at > now))).scalar_one_or_none()
    if row is None:
        return None
    unit = await session.get(OrgUnit, row.org_unit_id)
    person = await session.get(Person, row.person_id)
    if person is None or unit is None:
        return None
    scopes = (await session.execute(
        select(OrgUnit.path).join(RoleGrant, RoleGrant.org_unit_id == OrgUnit.id)
        .where(RoleGrant.person_id == row.person_id, RoleGrant.role == "admin"))).scalars().all()
    if not any(unit.path.startswith(p) for p in scopes):
        return None  # no longer an admin over this unit
    return person, unit


async def end_session(*, session: AsyncSession, token: str) -> None:
    """Log out: forget the session."""
    await session.execute(delete(DashboardSession).where(DashboardSession.token_hash == hash_token(token)))
