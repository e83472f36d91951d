"""Jobs: each "do what is due and not yet done", safe to run twice or on two workers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.confirmations import auto_confirm_due
from handlers.dispatch import escalate_due

log = logging.getLogger(__name__)

Job = Callable[[AsyncSession, datetime], Awaitable[int]]

JOBS: dict[str, Job] = {
    "escalate": escalate_due,
    "auto_confirm": auto_confirm_due,
}


async def run_due(sessions: async_sessionmaker[AsyncSession], now: datetime) -> dict[str, int]:
    """Run every job as of `now`, each in its own transaction; returns what each did."""
    done: dict[str, int] = {}
    for name, job in JOBS.items():
        try:
            async with sessions() as session:
                done[name] = await job(session, now)
                await session.commit()
        except Exception:  # one failing job must not stop the others
            log.exception("job %s failed", name)
            done[name] = -1
    return done
