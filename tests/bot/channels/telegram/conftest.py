"""The fake Bot API server and a world around it: the real client, the real channel, the relay.

`fake_bot_api.py` beside this file is the server (the benchmark uses it too). `tg` is a
running bot on the small test county (see tests/conftest.py), in polling mode; `tg_webhook`
the same bot behind its webhook on a real local HTTP server. Limits are Telegram's, with the
windows shrunk (1 s → 50 ms per chat) so that the folder runs in seconds.

Nothing here waits on the wall clock: the channel's retry waits are recorded, not slept; its
inbox sweeper runs when a test ticks it; the relay runs when kicked (its interval is an hour);
`settle` waits on events — the fake's changes, the kit's lanes, relay rounds — with a generous
timeout only as a guard against a hang.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.config import TelegramConfig, TelegramLimits
from bot.delivery.ratelimit import Limit, MemoryRateLimiter, Slot
from bot.delivery.relay import Relay, RelayLoop
from storage.models import Person
from tests.bot.channels.telegram.fake_bot_api import FakeBotAPI, FakeLimits

TOKEN = "123456:TEST-token"
SECRET = "s3cret-Token_1"
# Telegram's limits with short windows: 30/s per bot, one message per 50 ms in a chat, 20 per
# 500 ms in a group. The bot paces itself a little under them, as in production.
FAKE_LIMITS = FakeLimits(global_count=30, global_period=1.0, chat_period=0.05, group_count=20, group_period=0.5)
CLIENT_LIMITS = TelegramLimits(per_second=25, chat_interval=0.05, group_count=20, group_period=0.5, guard=0.02)
SETTLE_TIMEOUT = 15.0


class RecordingSleeper:
    """The channel's waits for `retry_after` and backoff: recorded, not slept."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


class SweepTicker:
    """The inbox sweeper's wait between sweeps: it sweeps when the test says so, not on a timer."""

    def __init__(self) -> None:
        self._go = asyncio.Event()
        self._waiting = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self._waiting.set()
        await self._go.wait()
        self._go.clear()

    async def tick(self, timeout: float = SETTLE_TIMEOUT) -> None:
        """Let the sweeper sweep once, and return when that sweep is over."""
        await asyncio.wait_for(self._waiting.wait(), timeout)
        self._waiting.clear()
        self._go.set()
        await asyncio.wait_for(self._waiting.wait(), timeout)  # waiting again: the sweep is done


class CountingLimiter(MemoryRateLimiter):
    """The real in-process limiter, counting how often it held a send back."""

    def __init__(self) -> None:
        super().__init__()
        self.denied = 0

    async def try_take(self, limits: Sequence[Limit], *, hold: float = 0.0) -> Slot | float:
        taken = await super().try_take(limits, hold=hold)
        self.denied += not isinstance(taken, Slot)
        return taken


class TelegramWorld:
    """A bot process (that tests may stop, crash and start again) and the people using Telegram."""

    def __init__(self, chat: Any, fake: Any, mode: str, limits: TelegramLimits = CLIENT_LIMITS) -> None:
        self.chat = chat
        self.fake = fake
        self.mode = mode
        self.limits = limits
        self.sleeper = RecordingSleeper()
        self.sweeps = SweepTicker()
        self.limiter = CountingLimiter()
        self.channel: TelegramChannel | None = None
        self._stop = asyncio.Event()
        self._relay_task: asyncio.Task[None] | None = None
        self._server: Any = None
        self._server_task: asyncio.Task[None] | None = None
        self.webhook_url = ""

    # -------------------------------------------------------------- the bot process

    def config(self) -> TelegramConfig:
        return TelegramConfig(token=TOKEN, api_url=self.fake.base_url, mode=self.mode,
                              webhook_url=self.webhook_url or None, webhook_secret=SECRET if self.mode == "webhook" else None,
                              limits=self.limits, poll_timeout=1, backoff=0.01, concurrency=16)

    def new_channel(self) -> TelegramChannel:
        """A channel as a fresh process would build it (nothing shared with the last one but the DB)."""
        loop_ref: dict[str, RelayLoop] = {}
        channel = TelegramChannel(self.config(), engine=self.chat.engine, limiter=self.limiter,
                                  kick=lambda: loop_ref["loop"].kick() if "loop" in loop_ref else None,
                                  sleep=self.sleeper, sweep_wait=self.sweeps)
        self.relay = Relay(self.chat.sessions, self.chat.clock, [channel])
        # Replies leave right after their commit, through the relay's courier (as in `xinfeng run`).
        channel.kit.courier = self.relay.courier
        # An hour: the relay runs when kicked (a handled message, `settle`), never by the clock.
        loop_ref["loop"] = self.relay_loop = RelayLoop(self.relay, interval=3600)
        return channel

    async def start_bot(self) -> TelegramChannel:
        """Start a bot process: HTTP server (webhook mode), channel, outbox relay."""
        if self.mode == "webhook" and self._server is None:
            await self._start_http()
        self.channel = self.new_channel()
        if self._server is not None:
            self._app.router.routes[:] = self._routes(self.channel)
        await self.channel.start()
        self._stop = asyncio.Event()
        self._relay_task = asyncio.create_task(self.relay_loop.run(self._stop))
        return self.channel

    async def stop_bot(self) -> None:
        """Stop the bot process cleanly."""
        if self.channel is not None:
            await self.channel.stop()
        self._stop.set()
        if self._relay_task is not None:
            self.relay_loop.kick()
            await self._relay_task
            self._relay_task = None
        self.channel = None

    def _routes(self, channel: TelegramChannel) -> list[Any]:
        from starlette.routing import Route

        async def health(_: Any) -> Any:
            from starlette.responses import PlainTextResponse

            return PlainTextResponse("ok")

        return [Route("/healthz", health), *channel.routes()]

    async def _start_http(self) -> None:
        import uvicorn
        from starlette.applications import Starlette

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        # Listening before the server runs: a webhook POST that comes first waits in the backlog.
        sock.listen(128)
        port = sock.getsockname()[1]
        self.webhook_url = f"http://127.0.0.1:{port}/telegram/webhook"
        self._app = Starlette(routes=[])
        self._server = uvicorn.Server(uvicorn.Config(self._app, log_level="warning", lifespan="off"))
        self._server_task = asyncio.create_task(self._server.serve(sockets=[sock]))

    async def close(self) -> None:
        await self.stop_bot()
        if self._server is not None:
            self._server.should_exit = True
            await self._server_task

    # -------------------------------------------------------------- people

    def user_id(self, name: str) -> int:
        """The Telegram account of a roster person (or anyone the test names)."""
        if name not in self.chat.ids:
            self.chat.ids[name] = 900_000 + len(self.chat.ids)
        uid = 7_000_000 + self.chat.ids[name]
        if uid not in self.fake.users:
            self.fake.add_user(uid, name)
        return uid

    async def link(self, *names: str) -> None:
        """Each person shares their own contact, which links their account to their roster row."""
        for name in names:
            async with self.chat.sessions() as s:
                phone = (await s.get(Person, self.chat.ids[name])).phone
            self.fake.user_shares_contact(self.user_id(name), "+86" + phone)
        await self.settle()

    async def say(self, name: str, text: str, *, group: int | None = None) -> list[Any]:
        """`name` writes `text` (privately, or in `group`); returns what the bot sent meanwhile."""
        before = {id(m) for m in self.fake.all_sent()}
        self.fake.user_says(self.user_id(name), text, chat_id=group)
        await self.settle()
        return [m for m in self.fake.all_sent() if id(m) not in before]

    async def press(self, name: str, message: Any, label: str) -> tuple[list[Any], dict[str, Any]]:
        """`name` presses a button; returns what the bot sent meanwhile and the callback answer."""
        before = {id(m) for m in self.fake.all_sent()}
        answered = set(self.fake.callback_answers)
        self.fake.press(self.user_id(name), message, label)
        await self.settle()
        answers = [v for k, v in self.fake.callback_answers.items() if k not in answered]
        return [m for m in self.fake.all_sent() if id(m) not in before], (answers[-1] if answers else {})

    def last_to(self, name: str) -> Any:
        sent = self.fake.sent_to(self.user_id(name))
        assert sent, f"the bot sent nothing to {name}"
        return sent[-1]

    async def settle(self, timeout: float = SETTLE_TIMEOUT) -> None:
        """Wait until every update is handled and every Telegram message due now is delivered.

        Settled: the fake has no update unconfirmed or in flight, the kit has no lane busy, and a relay round
        that started after that found nothing due — twice in a row. Rows waiting for their
        `not_before` are not due: a test moves the clock and settles again.
        """

        async def quiet() -> None:
            calm = 0
            while calm < 2:
                if self.channel is None or self._relay_task is None:
                    return  # no bot running: nothing more happens
                await self.fake.until(lambda: not self.fake.busy, timeout)
                await self.channel.kit.drain()
                await self.relay.courier.drain()
                self.relay_loop.kick()
                rows = await self.relay_loop.next_round()
                busy = rows > 0 or self.fake.busy or self.channel.kit.lanes > 0 or self.relay.courier.busy > 0
                calm = 0 if busy else calm + 1

        try:
            await asyncio.wait_for(quiet(), timeout)
        except TimeoutError:
            raise AssertionError(f"not settled: {self.fake.pending_updates()} updates, stats {self.fake.stats}") \
                from None


@pytest.fixture
async def fake_api() -> AsyncIterator[Any]:
    """The fake Bot API, listening on 127.0.0.1, enforcing (shrunk) Telegram limits."""
    fake = FakeBotAPI(TOKEN, limits=FAKE_LIMITS)
    await fake.start()
    yield fake
    await fake.stop()


async def _world(chat: Any, fake: Any, mode: str) -> AsyncIterator[TelegramWorld]:
    world = TelegramWorld(chat, fake, mode)
    await world.start_bot()
    try:
        yield world
    finally:
        await world.close()


@pytest.fixture
async def tg(chat: Any, fake_api: Any) -> AsyncIterator[TelegramWorld]:
    """A bot on the test county, long-polling the fake Bot API."""
    async for world in _world(chat, fake_api, "polling"):
        yield world


@pytest.fixture
async def tg_webhook(chat: Any, fake_api: Any) -> AsyncIterator[TelegramWorld]:
    """The same bot, receiving through its webhook on a real local HTTP server."""
    async for world in _world(chat, fake_api, "webhook"):
        yield world


@pytest.fixture(params=["polling", "webhook"])
async def tg_any(request: pytest.FixtureRequest, chat: Any, fake_api: Any) -> AsyncIterator[TelegramWorld]:
    """The bot in each receiving mode."""
    async for world in _world(chat, fake_api, request.param):
        yield world
