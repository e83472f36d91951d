"""PostgreSQL's connections cut under a running worker: 0 updates lost, 0 replies doubled.

Everything runs through a TCP proxy in front of the test database; the test cuts it (every
connection reset, new ones refused) while people write, then restores it. The platform behaves
as Telegram does: an update the worker could not take (`Unavailable`: 503, offset not moved) is
delivered again, until it is taken.

The outage is a real one (real connections through a real proxy), so its two seconds are real
time too: the one place besides the other fault tests where a test waits on the wall clock.
"""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.channels.base import ChannelKit
from bot.delivery.courier import Courier
from bot.delivery.presence import Presence
from handlers.app import build_dispatcher
from handlers.core.engine import Engine, Unavailable
from handlers.core.messages import InboundMessage
from storage.db import session_factory
from storage.models import InboxMessage, OutboxMessage
from tests.conftest import RecordingChannel
from tests.faults.servers import database_behind_a_proxy

PEOPLE = ["王大娘", "李大爷", "钱志愿", "城关所长"]


async def test_a_database_cut_loses_and_doubles_nothing(chat, engine, tmp_path) -> None:
    async with database_behind_a_proxy(engine) as (proxy, through):
        sessions = session_factory(through)
        channel = RecordingChannel()
        presence = Presence(sessions, chat.clock, journal_dir=tmp_path)
        await presence.start()
        courier = Courier(sessions, chat.clock, [channel], presence=presence)
        worker = Engine(sessions=sessions, clock=chat.clock, dispatcher=build_dispatcher(),
                        tz=ZoneInfo("Asia/Shanghai"))

        async def short_wait(seconds: float) -> None:
            await asyncio.sleep(min(seconds, 0.05))

        kit = ChannelKit(platform="test", engine=worker, courier=courier, retry_wait=short_wait)
        ids = {name: await chat.person_id(name) for name in PEOPLE}
        redelivered = 0

        async def platform(name: str, n: int) -> None:
            """Delivers one update until the worker takes it (as Telegram does after a 503)."""
            nonlocal redelivered
            pid = ids[name]
            msg = InboundMessage(platform="test", user_id=f"u{pid}", chat_id=f"u{pid}", text="帮助",
                                 message_id=f"{name}-{n}")
            while True:
                try:
                    await kit.receive(msg)
                    return
                except Unavailable:
                    redelivered += 1
                    await asyncio.sleep(0.05)

        from bot.channels.base import parser_warmed

        await parser_warmed()  # loaded at start; the cut is to meet handling, not the loading
        try:
            first = [asyncio.create_task(platform(name, 1)) for name in PEOPLE]
            await asyncio.sleep(0.005)
            proxy.cut()  # mid-handling: some transactions lose their connection, new ones are refused
            during = [asyncio.create_task(platform(name, 2)) for name in PEOPLE]
            await asyncio.sleep(2.0)
            proxy.restore()
            await asyncio.wait_for(asyncio.gather(*first, *during), 30)
            await kit.drain()
            await courier.drain(timeout=30)
            assert redelivered > 0  # the cut was felt
            async with chat.sessions() as s:
                inbox = (await s.execute(select(InboxMessage.status, func.count()).group_by(InboxMessage.status))).all()
                outbox = (await s.execute(select(OutboxMessage.status, func.count())
                                          .group_by(OutboxMessage.status))).all()
            assert dict(inbox) == {"processed": 2 * len(PEOPLE)}  # none failed, none lost
            assert dict(outbox) == {"sent": 2 * len(PEOPLE)}
            per_person = {name: sum(1 for m in channel.sent if m.person_id == pid) for name, pid in ids.items()}
            assert per_person == {name: 2 for name in PEOPLE}  # each answered once per message: none doubled
        finally:
            await presence.stop()
