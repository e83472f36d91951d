"""kill -9 of a delivery worker: its rows are retaken within the lease, nothing lost, nothing sent twice.

The worker is a real process (`tests.faults.doomed_worker`) killed with SIGKILL the moment the
platform took its message — after its journal noted the delivery, before the database heard.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from sqlalchemy import select

from bot.delivery.presence import Presence
from bot.delivery.relay import Relay
from storage.messaging.outbox import enqueue_to_person
from storage.models import DeliveryWorker, OutboxMessage, Person

ROOT = Path(__file__).resolve().parents[2]
LEASE = 5.0


async def test_a_killed_workers_rows_are_taken_over_and_none_is_sent_twice(chat, engine, tmp_path) -> None:
    ids = []
    for name, text in (("王大娘", "送到了才被杀"), ("李大爷", "还没轮到")):
        await chat.person_id(name)
        async with chat.sessions() as s:
            row = await enqueue_to_person(s, person=await s.get(Person, chat.ids[name]), text=text,
                                          now=chat.clock.now())
            await s.commit()
            ids.append(row.id)
    platform_log = tmp_path / "platform.log"
    url = engine.url.render_as_string(hide_password=False)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.faults.doomed_worker", url, str(tmp_path / "journal"), str(platform_log),
        chat.clock.now().isoformat(), *map(str, ids), cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert await asyncio.wait_for(proc.wait(), 60) == -signal.SIGKILL
    assert platform_log.read_text().split() == [str(ids[0])]
    async with chat.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
        assert [r.status for r in rows] == ["sending", "sending"]  # the database never heard

    survivor = Presence(chat.sessions, chat.clock, journal_dir=tmp_path / "journal", lease=LEASE, name="survivor")
    await survivor._register()
    survivor._alive_since = time.monotonic() - LEASE  # it has beaten for a lease: it may judge others
    chat.clock.advance(seconds=LEASE + 1)  # the killed worker's lease runs out
    relay = Relay(chat.sessions, chat.clock, [chat.channel], presence=survivor)
    assert await relay.deliver_pending() == 1
    assert [m.outbox_id for m in chat.channel.sent] == [ids[1]]  # only the one never sent goes now
    async with chat.sessions() as s:
        rows = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
        assert [(r.status, r.external_message_id) for r in rows] == [("sent", f"ext-{ids[0]}"), ("sent", "1")]
        assert (await s.execute(select(DeliveryWorker.name))).scalars().all() == ["survivor"]
    assert relay.courier.stats["possible_duplicates"] == 0
