"""Replacing a team's invite code (换邀请码): the old one stops working at once.

Invite codes get shared in groups and forwarded; a captain who thinks one went too far gets a
new one, drawn like the import's (no 0/O or 1/I/L, so it survives being read aloud).
"""

from __future__ import annotations

import secrets

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Team
from storage.roster.writers import INVITE_ALPHABET, INVITE_LENGTH


async def _taken(session: AsyncSession, code: str) -> bool:
    stmt = select(Team.id).where(func.upper(Team.invite_code) == code.upper()).limit(1)
    return (await session.execute(stmt)).first() is not None


async def rotate_invite_code(session: AsyncSession, team: Team) -> str:
    """Give a team a fresh invite code no other team has; the old code no longer finds it."""
    while True:
        code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
        if not await _taken(session, code):
            break
    await session.execute(update(Team).where(Team.id == team.id).values(invite_code=code)
                          .execution_options(synchronize_session=False))
    team.invite_code = code
    return code
