"""Requests to link a chat account to a roster person, and what the decision needs to know.

A request is opened by `加入 <邀请码> <姓名>` when the name is someone on the team's roster; it
is decided once — approved by a captain or an admin, refused, or proved by the one-time code
sent to the person's account already linked — by a conditional UPDATE, so two approvers
pressing at once decide it once. An account holds one pending request at a time: a new one
supersedes the old.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import id_in_range
from storage.models import ChannelIdentity, Person, RoleGrant, TeamMember
from storage.models.trust import LinkRequest
from storage.sql import rowcount

PENDING, APPROVED, REFUSED, PROVED, SUPERSEDED = "pending", "approved", "refused", "proved", "superseded"
# How long a request waits for its approver (or its code) before it lapses.
REQUEST_TTL = timedelta(hours=72)
# Roles whose rows a captain may not approve: an admin does (docs/roles.md, issue 12).
TRUSTED_ROLES = ("captain", "admin", "shopkeeper", "first_secretary", "federation_admin")


def code_digest(platform: str, external_id: str, code: str) -> str:
    """What is stored of a one-time code: a digest bound to the account it was issued for."""
    return hashlib.sha256(f"{platform}\x1f{external_id}\x1f{code}".encode()).hexdigest()


async def roster_member_named(session: AsyncSession, *, team_id: int, name: str) -> Person | None:
    """The team's member (or captain) of that name, the first on the roster when names repeat."""
    members = select(TeamMember.person_id).where(TeamMember.team_id == team_id)
    captains = select(RoleGrant.person_id).where(RoleGrant.role == "captain", RoleGrant.team_id == team_id)
    stmt = (select(Person).where(Person.name == name, Person.id.in_(members.union(captains)))
            .order_by(Person.id).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none()


async def holds_trusted_role(session: AsyncSession, person_id: int) -> bool:
    """Whether a person is a captain, an admin, a shopkeeper, a first secretary or a federation admin."""
    stmt = select(RoleGrant.id).where(RoleGrant.person_id == person_id, RoleGrant.role.in_(TRUSTED_ROLES)).limit(1)
    return (await session.execute(stmt)).first() is not None


async def linked_accounts(session: AsyncSession, person_id: int, *, besides: tuple[str, str] | None = None
                          ) -> list[ChannelIdentity]:
    """A person's reachable chat accounts, most recently seen first, leaving out `besides` (platform, id)."""
    stmt = (select(ChannelIdentity)
            .where(ChannelIdentity.person_id == person_id, ChannelIdentity.reachable.is_(True))
            .order_by(ChannelIdentity.last_seen_at.desc().nulls_last(), ChannelIdentity.id.desc()))
    found = list((await session.execute(stmt)).scalars())
    return [i for i in found if besides is None or (i.platform, i.external_id) != besides]


async def requests_since(session: AsyncSession, *, platform: str, external_id: str, since: datetime) -> int:
    """How many requests an account opened since an instant (a guesser is slowed down)."""
    stmt = select(func.count(LinkRequest.id)).where(LinkRequest.platform == platform,
                                                    LinkRequest.external_id == external_id,
                                                    LinkRequest.created_at >= since)
    return int((await session.execute(stmt)).scalar_one())


async def open_request(
    session: AsyncSession, *, person_id: int, team_id: int | None, platform: str, external_id: str,
    display_name: str | None, requester_id: int | None, now: datetime, code: str | None,
) -> LinkRequest:
    """Open a pending request for an account (superseding its earlier pending one)."""
    await session.execute(
        update(LinkRequest)
        .where(LinkRequest.platform == platform, LinkRequest.external_id == external_id,
               LinkRequest.status == PENDING)
        .values(status=SUPERSEDED, decided_at=now)
        .execution_options(synchronize_session=False))
    request = LinkRequest(person_id=person_id, team_id=team_id, platform=platform, external_id=external_id,
                          display_name=display_name, requester_id=requester_id, status=PENDING,
                          code_digest=code_digest(platform, external_id, code) if code else None, code_tries=0,
                          created_at=now, expires_at=now + REQUEST_TTL)
    session.add(request)
    await session.flush()
    return request


async def request_by_id(session: AsyncSession, request_id: int) -> LinkRequest | None:
    """A request as it stands now, or None (also for an id no request can have)."""
    if not id_in_range(LinkRequest, request_id):
        return None
    stmt = select(LinkRequest).where(LinkRequest.id == request_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def pending_of_account(session: AsyncSession, *, platform: str, external_id: str,
                             now: datetime) -> LinkRequest | None:
    """The account's pending request that has not lapsed, if any."""
    stmt = (select(LinkRequest)
            .where(LinkRequest.platform == platform, LinkRequest.external_id == external_id,
                   LinkRequest.status == PENDING, LinkRequest.expires_at > now)
            .order_by(LinkRequest.id.desc()).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none()


async def decide(session: AsyncSession, *, request_id: int, status: str, by_id: int | None, now: datetime) -> bool:
    """Decide a pending, unlapsed request once; False when it was decided (or lapsed) already."""
    result = await session.execute(
        update(LinkRequest)
        .where(LinkRequest.id == request_id, LinkRequest.status == PENDING, LinkRequest.expires_at > now)
        .values(status=status, decided_at=now, decided_by_id=by_id)
        .execution_options(synchronize_session=False))
    return rowcount(result) == 1


async def count_wrong_code(session: AsyncSession, request_id: int) -> int:
    """Count one wrong one-time code against a request; the tries so far."""
    await session.execute(
        update(LinkRequest).where(LinkRequest.id == request_id)
        .values(code_tries=LinkRequest.code_tries + 1).execution_options(synchronize_session=False))
    stmt = select(LinkRequest.code_tries).where(LinkRequest.id == request_id)
    return int((await session.execute(stmt)).scalar_one())
