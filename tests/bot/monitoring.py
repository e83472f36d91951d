"""Helpers for the health and metrics tests: stamped databases, closed ports, running loops.

Not a test module (no `test_` prefix): `test_web.py` and `test_metrics.py` import it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from alembic import command
from alembic.script import ScriptDirectory
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.metrics import TICK_JOB
from storage.migrate import alembic_config, head_revision


def url_of(engine: AsyncEngine) -> str:
    """The engine's URL with its password, for Alembic."""
    return engine.url.render_as_string(hide_password=False)


async def stamp(engine: AsyncEngine, revision: str) -> None:
    """Record `revision` as the database's schema revision (the tables are there already)."""
    await asyncio.to_thread(command.stamp, alembic_config(url_of(engine)), revision)


async def unstamp(engine: AsyncEngine) -> None:
    """Forget the schema revision (PostgreSQL's test database outlives a test: leave it as found)."""
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def revision_before_head() -> str:
    """The revision just before the head: a database one migration behind."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    down = script.get_revision(head_revision()).down_revision
    assert isinstance(down, str)
    return down


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class FakeClock:
    """Seconds since the epoch, moved by hand (the metrics' `now`)."""

    t: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@dataclass
class Loops:
    """A relay-like task and a scheduler with the tick job, both running until `close`."""

    stop: asyncio.Event = field(default_factory=asyncio.Event)
    relay: asyncio.Task[Any] | None = None
    scheduler: AsyncIOScheduler | None = None

    async def start(self) -> Loops:
        self.relay = asyncio.create_task(self.stop.wait())
        self.scheduler = AsyncIOScheduler()

        async def tick() -> None:
            return None

        self.scheduler.add_job(tick, "interval", seconds=3600, id=TICK_JOB)
        self.scheduler.start()
        return self

    async def close(self) -> None:
        self.stop.set()
        if self.relay is not None:
            with contextlib.suppress(BaseException):
                await self.relay
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)


@contextlib.asynccontextmanager
async def running_loops() -> AsyncIterator[Loops]:
    """Loops that run for the duration of the block."""
    loops = await Loops().start()
    try:
        yield loops
    finally:
        await loops.close()


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, keyed by (name, sorted labels); it must parse."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float | None:
    """One sample's value, or None when absent."""
    return found.get((name, tuple(sorted(labels.items()))))
