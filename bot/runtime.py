"""Wiring: builds the database, state store and message engine from settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from bot.settings import Settings
from handlers.app import build_dispatcher
from handlers.core.engine import Engine
from storage.clock import Clock, SystemClock
from storage.db import Sessions, create_engine, session_factory
from storage.migrate import upgrade
from storage.people.network import has_units

if TYPE_CHECKING:
    from redis.asyncio import Redis


class Database(Protocol):
    """The database engine as the runtime holds it: only to let its connections go."""

    async def dispose(self) -> None:
        """Close every pooled connection."""
        ...


@dataclass
class Runtime:
    """The assembled parts a running bot shares."""

    settings: Settings
    db: Database
    sessions: Sessions
    clock: Clock
    engine: Engine
    redis: Redis | None = None

    async def close(self) -> None:
        """Release connections."""
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.dispose()


async def migrate(settings: Settings) -> None:
    """Apply migrations (Alembic runs its own loop, so off this one)."""
    await asyncio.to_thread(upgrade, settings.database_url)


async def build_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    """Connect to the database (and Redis, when configured) and assemble the engine."""
    db = create_engine(settings.database_url)
    sessions = session_factory(db)
    redis = None
    if settings.redis_url:
        import redis.asyncio as redis_asyncio

        redis = redis_asyncio.from_url(settings.redis_url)
    clock = clock or SystemClock()
    engine = Engine(
        sessions=sessions, clock=clock, dispatcher=build_dispatcher(), tz=settings.tz,
        public_url=settings.public_base_url, daily_cap=Decimal(str(settings.daily_hours_cap)),
    )
    return Runtime(settings=settings, db=db, sessions=sessions, clock=clock, engine=engine, redis=redis)


async def network_is_empty(sessions: Sessions) -> bool:
    """Whether no org unit has been imported yet."""
    async with sessions() as session:
        return not await has_units(session)
