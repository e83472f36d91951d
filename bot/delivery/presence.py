"""This worker's heartbeat: the lease on the outbox rows it sends, and the count of live workers.

A worker registers at start and beats every `beat_every` seconds. Another worker takes over
its rows once its heartbeat is older than `lease` — but only a worker that has itself beaten
without a break for a whole lease: after an outage of the database every worker's heartbeat
is old, and a live one must get its beat in (and its deliveries recorded) before anyone could
mistake it for dead. So a live worker's rows are never taken, a dead one's within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import tempfile
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from bot.delivery.journal import Journal
from storage.clock import Clock
from storage.db import Sessions, transient
from storage.messaging.workers import beat, forget_worker, live_workers, register_worker

log = logging.getLogger(__name__)

BEAT_EVERY = 1.0
LEASE = 5.0


def journal_dir() -> Path:
    """Where workers keep their send journals: `XINFENG_JOURNAL_DIR`, else a directory in the system temp.

    Workers on one host (or sharing a volume here) read each other's journals when one dies.
    """
    configured = os.environ.get("XINFENG_JOURNAL_DIR")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "xinfeng-journal"


def attach_courier(channels: Iterable[object], courier: object) -> None:
    """Let each channel's kit send the replies it handled through this worker's courier."""
    for channel in channels:
        kit = getattr(channel, "kit", None)
        if kit is not None:
            kit.courier = courier


def worker_name() -> str:
    """host:pid, for the logs and the heartbeat table."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Presence:
    """Registers this worker, keeps its heartbeat, and says how long it has been continuously alive."""

    def __init__(self, sessions: Sessions, clock: Clock, *, journal_dir: Path | None = None,
                 beat_every: float = BEAT_EVERY, lease: float = LEASE, name: str | None = None) -> None:
        self.sessions = sessions
        self.clock = clock
        self.beat_every = beat_every
        self.lease = lease
        self.name = name or worker_name()
        self.journal_dir = journal_dir
        self.journal: Journal | None = None
        self.worker_id: int | None = None
        self.live = 1
        self._alive_since: float | None = None  # monotonic: the first beat of the current unbroken run
        self._last_beat: float | None = None  # monotonic: when the last beat was recorded
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Register (waiting for the database if it is away) and start beating."""
        delay = 0.5
        while self.worker_id is None:
            try:
                await self._register()
            except Exception as exc:
                if not transient(exc):
                    raise
                log.warning("delivery worker: database unreachable (%r), registering again in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(10.0, delay * 2)
        self._task = asyncio.create_task(self._beat(), name="delivery-heartbeat")

    async def _register(self) -> None:
        if self.journal is None and self.journal_dir is not None:
            safe = "".join(c if c.isalnum() else "-" for c in self.name)
            self.journal = Journal(self.journal_dir / f"worker-{safe}-{uuid.uuid4().hex[:8]}.log")
        async with self.sessions() as session:
            worker_id = await register_worker(session, name=self.name, now=self.clock.now(),
                                              journal=str(self.journal.path) if self.journal else None)
            await session.commit()
        self.worker_id = worker_id
        self._alive_since = self._last_beat = time.monotonic()
        log.info("delivery worker %s registered as %s", self.name, worker_id)

    async def stop(self) -> None:
        """Stop beating and leave the table (after the courier has let go of its rows)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.worker_id is None:
            return
        with contextlib.suppress(Exception):
            async with self.sessions() as session:
                gone = await forget_worker(session, self.worker_id)
                await session.commit()
            if gone and self.journal is not None:
                self.journal.close(remove=True)
                self.journal = None
        if self.journal is not None:
            self.journal.close()

    def healthy_for(self) -> float:
        """Seconds this worker has beaten without a break (0 while the database is away)."""
        return 0.0 if self._alive_since is None else time.monotonic() - self._alive_since

    def may_take_over(self) -> bool:
        """Whether this worker may declare others dead: it has itself beaten for a whole lease, and
        its last beat is recent (a beat hanging on a frozen database breaks the run as an error does)."""
        if self.worker_id is None or self._last_beat is None:
            return False
        if time.monotonic() - self._last_beat > self.lease / 2:
            return False
        return self.healthy_for() >= self.lease

    @property
    def lease_delta(self) -> timedelta:
        """The lease as a time span."""
        return timedelta(seconds=self.lease)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.beat_every)
            try:
                async with self.sessions() as session:
                    kept = await beat(session, self.worker_id or 0, now=self.clock.now())
                    self.live = max(1, await live_workers(session, now=self.clock.now(), lease=self.lease_delta))
                    await session.commit()
                if not kept:  # declared dead during a long stall: its rows went back; start afresh
                    log.error("delivery worker %s was taken for dead; registering again", self.worker_id)
                    self.worker_id = None
                    await self._register()
                    continue
                now = time.monotonic()
                if self._alive_since is None or self._last_beat is None or now - self._last_beat > self.lease:
                    # The first beat after a gap (a frozen database answers late, raising nothing):
                    # a new run starts, and others' beats get a lease to land before it judges them.
                    self._alive_since = now
                self._last_beat = now
            except Exception as exc:  # the database is away: the run of beats is broken
                self._alive_since = None
                if not transient(exc):
                    log.exception("delivery worker heartbeat failed")
