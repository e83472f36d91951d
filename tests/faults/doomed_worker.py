"""A delivery worker that is killed with SIGKILL right after the platform took a message.

Run by tests/faults/test_worker_killed.py as its own process:
    python -m tests.faults.doomed_worker DB_URL JOURNAL_DIR PLATFORM_LOG ISO_NOW ROW_ID [ROW_ID…]
It registers, claims the rows, hands the first to its courier and dies the moment the platform
(a file it appends to) has it — before the database hears of it. The other rows stay claimed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import datetime
from pathlib import Path

from bot.delivery.courier import Courier
from bot.delivery.presence import Presence
from handlers.core.messages import OutboundMessage
from storage.clock import FixedClock
from storage.db import create_engine, session_factory
from storage.messaging.outbox import claim_many
from storage.messaging.outcomes import Delivered, DeliveryOutcome
from storage.models import OutboxMessage


class DoomedPlatform:
    platform = "test"

    def __init__(self, log: Path) -> None:
        self.log = log

    async def send(self, message: OutboundMessage) -> DeliveryOutcome:
        with self.log.open("a") as f:
            f.write(f"{message.outbox_id}\n")
        # Killed once the courier has noted the delivery, before its outcome is recorded.
        asyncio.get_running_loop().call_soon(os.kill, os.getpid(), signal.SIGKILL)
        return Delivered(f"ext-{message.outbox_id}")


async def main(url: str, journal: str, log: str, now: str, ids: list[int]) -> None:
    db = create_engine(url)
    sessions = session_factory(db)
    clock = FixedClock(datetime.fromisoformat(now))
    presence = Presence(sessions, clock, journal_dir=Path(journal), name="doomed")
    await presence._register()
    async with sessions() as s:
        await claim_many(s, ids, now=clock.now(), worker=presence.worker_id)
        await s.commit()
        first = await s.get(OutboxMessage, ids[0])
    courier = Courier(sessions, clock, [DoomedPlatform(Path(log))], presence=presence)
    await courier.deliver([first])
    raise SystemExit("not killed")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], [int(x) for x in sys.argv[5:]]))
