"""Who may run the jobs: one leader among all `xinfeng run` processes, with a fencing token.

With Redis (`XINFENG_REDIS_URL`): the leader holds `SET key holder NX PX ttl`, renews it with
a compare-and-PEXPIRE every heartbeat, and on each new tenure takes the next fencing token
from the database (`storage.scheduling.leases.begin_tenure`). A leader that dies stops renewing; within
the TTL (30 s) plus one heartbeat (10 s) a standby takes the key — well under a minute.

Without Redis: the same lease as a database row (`storage.scheduling.leases.hold_db_lease`), which
serves both one SQLite machine and several workers sharing PostgreSQL.

Either way the token is checked in every transaction that writes what the scheduler owes, so
a paused or partitioned ex-leader's late write fails rather than duplicating; and the
sent-log's unique keys stand behind that, so even two leaders could not send twice.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any, Protocol

from storage.db import Sessions
from storage.scheduling.leases import Fence, begin_tenure, hold_db_lease, release_db_lease

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
REDIS_TTL = timedelta(seconds=30)
DB_TTL = timedelta(seconds=45)
HEARTBEAT = timedelta(seconds=10)

# Renew or release only our own key: GET and PEXPIRE/DEL must be one atomic step.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def new_holder_id() -> str:
    """A name for this process that no other process shares."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease(Protocol):
    """Leadership: `hold` acquires or renews and returns the current fence, or None if another leads."""

    holder: str

    async def hold(self, now: datetime) -> Fence | None: ...

    async def release(self) -> None: ...


class DbLease:
    """The lease as a database row, timed by the injected clock."""

    def __init__(self, sessions: Sessions, *, holder: str | None = None,
                 name: str = LEASE_NAME, ttl: timedelta = DB_TTL) -> None:
        self.sessions = sessions
        self.holder = holder or new_holder_id()
        self.name = name
        self.ttl = ttl
        self.fence: Fence | None = None

    async def hold(self, now: datetime) -> Fence | None:
        """Renew our tenure or take a free/expired lease."""
        async with self.sessions() as session:
            fence = await hold_db_lease(session, name=self.name, holder=self.holder, now=now, ttl=self.ttl,
                                        current=self.fence)
            await session.commit()
        if fence != self.fence:
            log.warning("scheduler lease %s: %s", self.name, f"leading (token {fence.token})" if fence else "standby")
        self.fence = fence
        return fence

    async def release(self) -> None:
        """Hand the lease back so a standby need not wait for it to expire."""
        if self.fence is None:
            return
        async with self.sessions() as session:
            await release_db_lease(session, self.fence)
            await session.commit()
        self.fence = None


class RedisLease:
    """The lease as a Redis key (SET NX PX, renewed), with the fencing token from the database."""

    def __init__(self, redis: Any, sessions: Sessions, *, holder: str | None = None,
                 name: str = LEASE_NAME, ttl: timedelta = REDIS_TTL, prefix: str = "xinfeng:") -> None:
        self.redis = redis
        self.sessions = sessions
        self.holder = holder or new_holder_id()
        self.name = name
        self.ttl_ms = int(ttl.total_seconds() * 1000)
        self.key = f"{prefix}lease:{name}"
        self.fence: Fence | None = None

    async def hold(self, now: datetime) -> Fence | None:
        """Renew our key, or take it if nobody holds it; a new tenure takes a new token."""
        if self.fence is not None:
            if await self.redis.eval(_RENEW, 1, self.key, self.holder, self.ttl_ms):
                return self.fence
            log.warning("scheduler lease %s lost by %s", self.name, self.holder)
            self.fence = None
        if not await self.redis.set(self.key, self.holder, nx=True, px=self.ttl_ms):
            return None
        try:
            async with self.sessions() as session:
                fence = await begin_tenure(session, name=self.name, holder=self.holder, now=now,
                                           expires_at=now + timedelta(milliseconds=self.ttl_ms))
                await session.commit()
        except BaseException:
            await self.redis.eval(_RELEASE, 1, self.key, self.holder)
            raise
        log.warning("scheduler lease %s: leading (token %s)", self.name, fence.token)
        self.fence = fence
        return fence

    async def release(self) -> None:
        """Delete our key (only if still ours) so a standby takes over at its next heartbeat."""
        await self.redis.eval(_RELEASE, 1, self.key, self.holder)
        self.fence = None


def build_lease(sessions: Sessions, redis: Any = None) -> Lease:
    """A Redis lease when Redis is configured, else the database-row lease."""
    if redis is not None:
        return RedisLease(redis, sessions)
    return DbLease(sessions)
