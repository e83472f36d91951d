"""Conversation state (a draft awaiting "确认"), kept in our database, not in a chat library.

The state is a row written in the handler's own transaction: a handler that fails rolls its
draft back with everything else, and every worker reads the same state. (It once had a Redis
backend too; Redis cannot take part in the transaction, so a failure after clearing a draft
lost it, and a Redis outage failed every message — the database is already shared.) Keys are
`(platform, chat, user)` so a group and a private chat with the same person never mix.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.clock import Clock
from storage.models import ConversationState
from storage.sql import rowcount


def state_key(platform: str, chat_id: str, user_id: str) -> str:
    """The key of one conversation."""
    return f"{platform}:{chat_id}:{user_id}"


class SqlStateStore:
    """State rows in the handler's own session, so they commit or roll back with it.

    `known` is one conversation's row as already read with the sender's identity
    (`storage.people.identities.identify`): asking for that key then costs no query — most
    messages have no state at all.
    """

    def __init__(self, session: AsyncSession, clock: Clock, *, known_key: str | None = None,
                 known: tuple[dict[str, Any], datetime | None] | None = None) -> None:
        self._session = session
        self._clock = clock
        self._known_key = known_key
        self._known = known

    async def get(self, key: str) -> dict[str, Any] | None:
        if key == self._known_key:
            if self._known is None:
                return None
            data, expires_at = self._known
        else:
            row = await self._session.get(ConversationState, key)
            if row is None:
                return None
            data, expires_at = row.data, row.expires_at
        if expires_at is not None and expires_at <= self._clock.now():
            return None
        return dict(data)

    async def set(self, key: str, data: dict[str, Any], ttl: timedelta) -> None:
        if key == self._known_key:
            self._known_key = None  # written now: read it back from the session from here on
        row = await self._session.get(ConversationState, key)
        expires = self._clock.now() + ttl
        if row is None:
            self._session.add(ConversationState(key=key, data=data, expires_at=expires))
        else:
            row.data = data
            row.expires_at = expires
        await self._session.flush()

    async def clear(self, key: str) -> None:
        if key == self._known_key:
            self._known = None
        await self._session.execute(delete(ConversationState).where(ConversationState.key == key))

    async def purge_expired(self, now: datetime) -> int:
        """Delete expired rows (Redis does this by itself)."""
        result = await self._session.execute(
            delete(ConversationState).where(ConversationState.expires_at <= now)
        )
        return rowcount(result)

    async def keys(self) -> list[str]:
        """Every stored key (for tests and housekeeping)."""
        return list((await self._session.execute(select(ConversationState.key))).scalars())

