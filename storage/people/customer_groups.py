"""The WeCom customer groups the app knows of, and binding one to a team.

WeCom lists the groups (`groupchat/list` + `groupchat/get`); the app keeps what it last saw —
name, owner, member count — refreshed daily, so `绑定客户群 <群名>` and the CLI find a group by
name without calling WeCom. A binding is a `TeamGroup` with platform `wecom_customer`, so the
team's senders reach it like any bound group (storage.people.groups.bind_chat).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CUSTOMER_PLATFORM, CustomerGroup, Team, TeamGroup
from storage.people.groups import bind_chat
from storage.sql import insert_ignoring


async def remember_groups(session: AsyncSession, groups: Sequence[tuple[str, str, str, int]], *,
                          now: datetime) -> int:
    """Record (chat_id, name, owner, member_count) as WeCom listed them; how many were new."""
    if not groups:
        return 0
    known = {g.chat_id for g in (await session.execute(
        select(CustomerGroup).where(CustomerGroup.chat_id.in_([g[0] for g in groups])))).scalars()}
    new = [g for g in groups if g[0] not in known]
    if new:
        await session.execute(insert_ignoring(session, CustomerGroup).values([
            {"chat_id": c, "name": n, "owner": o, "member_count": m, "refreshed_at": now} for c, n, o, m in new]))
    for chat_id, name, owner, members in groups:
        if chat_id in known:
            await session.execute(update(CustomerGroup).where(CustomerGroup.chat_id == chat_id).values(
                name=name, owner=owner, member_count=members, refreshed_at=now))
    return len(new)


async def known_groups(session: AsyncSession, *, owner: str | None = None) -> list[CustomerGroup]:
    """The customer groups seen, by name (of one owner when given)."""
    stmt = select(CustomerGroup).order_by(CustomerGroup.name, CustomerGroup.id)
    if owner is not None:
        stmt = stmt.where(CustomerGroup.owner == owner)
    return list((await session.execute(stmt)).scalars())


async def groups_named(session: AsyncSession, name: str, *, owner: str | None = None) -> list[CustomerGroup]:
    """Groups whose name is exactly `name`, else those containing it."""
    groups = await known_groups(session, owner=owner)
    exact = [g for g in groups if g.name == name]
    return exact or [g for g in groups if name and name in g.name]


async def bound_team(session: AsyncSession, chat_id: str) -> Team | None:
    """The team a customer group serves, if bound."""
    stmt = (select(Team).join(TeamGroup, TeamGroup.team_id == Team.id)
            .where(TeamGroup.platform == CUSTOMER_PLATFORM, TeamGroup.chat_id == chat_id))
    return (await session.execute(stmt)).scalar_one_or_none()


async def bind_customer_group(session: AsyncSession, *, team_id: int, group: CustomerGroup) -> TeamGroup | None:
    """Bind a customer group to a team; None when a team already holds it."""
    return await bind_chat(session, team_id=team_id, platform=CUSTOMER_PLATFORM, chat_id=group.chat_id,
                           title=group.name)
