"""The channel kit: an infrastructure error during handling is never a lost or failed update."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import select

from bot.channels.base import TRIES, ChannelKit
from handlers.app import build_dispatcher
from handlers.core.engine import Engine, Unavailable
from handlers.core.messages import InboundMessage
from storage.models import InboxMessage


class FlakyDispatcher:
    """The real dispatcher behind an infrastructure that fails the first `failures` times."""

    def __init__(self, failures: int) -> None:
        self.inner = build_dispatcher()
        self.failures = failures
        self.calls = 0

    async def dispatch(self, ctx, text: str) -> bool:
        self.calls += 1
        if self.calls <= self.failures:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")
        return await self.inner.dispatch(ctx, text)


async def _no_wait(_: float) -> None:
    return None


def _kit(chat, failures: int) -> tuple[ChannelKit, FlakyDispatcher]:
    flaky = FlakyDispatcher(failures)
    engine = Engine(sessions=chat.sessions, clock=chat.clock, dispatcher=flaky,  # type: ignore[arg-type]
                    tz=ZoneInfo("Asia/Shanghai"))
    return ChannelKit(platform="test", engine=engine, retry_wait=_no_wait), flaky


async def _inbox(chat) -> list[str]:
    async with chat.sessions() as s:
        return list((await s.execute(select(InboxMessage.status))).scalars())


async def test_an_update_the_infrastructure_failed_is_handled_again_not_marked_failed(chat) -> None:
    kit, flaky = _kit(chat, failures=TRIES - 1)
    pid = await chat.person_id("王大娘")
    msg = InboundMessage(platform="test", user_id=f"u{pid}", chat_id=f"u{pid}", text="帮助", message_id="f1")
    rows = await kit.handle(msg)
    assert rows is not None and len(rows) == 1 and "我能帮您" in rows[0].text  # no apology
    assert flaky.calls == TRIES and await _inbox(chat) == ["processed"]


async def test_a_longer_outage_records_nothing_so_the_platform_delivers_it_again(chat) -> None:
    kit, flaky = _kit(chat, failures=TRIES)
    pid = await chat.person_id("王大娘")
    msg = InboundMessage(platform="test", user_id=f"u{pid}", chat_id=f"u{pid}", text="帮助", message_id="f2")
    with pytest.raises(Unavailable):
        await kit.handle(msg)
    assert await _inbox(chat) == []  # nothing recorded: the 503 / unmoved offset brings it back
    rows = await kit.handle(msg)  # the platform's redelivery, the infrastructure back
    assert rows is not None and "我能帮您" in rows[0].text and await _inbox(chat) == ["processed"]


async def test_a_kept_update_is_retried_until_the_infrastructure_is_back(chat) -> None:
    kit, flaky = _kit(chat, failures=3 * TRIES)
    pid = await chat.person_id("王大娘")
    msg = InboundMessage(platform="test", user_id=f"u{pid}", chat_id=f"u{pid}", text="帮助", message_id="f3")
    assert await kit.keep(msg) is not None  # answered to the platform already: must not be given up
    handled = await kit.receive(msg, kept=True)
    assert handled is not None and not handled.failed and flaky.calls == 3 * TRIES + 1
    assert await _inbox(chat) == ["processed"]
