"""Fixtures for the WeChat channels: a fake WeChat API server, and WeChat's side of the callbacks.

`wechat_world` puts both channels (Official Account in encrypted mode, WeCom app) on the chat
harness's database and engine, points them at the fake API (a real local HTTP server), and
gives the test a `resident` (posts Official Account callbacks) and a `member` (posts WeCom
callbacks) that speak to the bot's real Starlette routes through httpx's ASGI transport.
The fake's time is the test's clock; the WeCom rate limiter sleeps by moving that clock.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.wechat.api import api_http_client, build_api
from bot.channels.wechat.callbacks import CallbackCodec
from bot.channels.wechat.channel import WeChatChannel
from bot.channels.wecom.channel import WeComChannel
from bot.delivery.ratelimit import MemoryRateLimiter
from bot.delivery.relay import Relay
from bot.web import build_app
from handlers.core.engine import Engine
from tests.bot.channels.wechat import fake_wechat_api as fake_module
from tests.bot.channels.wechat import wechat_callbacks as callbacks_module

HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_backends: a WeChat channel test that also runs on PostgreSQL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run this directory's tests on SQLite only, unless marked `both_backends`.

    Their storage operations have their own two-backend tests (tests/storage/messaging/test_wechat.py);
    what is left here is HTTP, XML and crypto, where a PostgreSQL schema per test adds only time.
    """
    dropped = [
        item for item in items
        if HERE in Path(str(item.fspath)).resolve().parents
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("engine") == "postgresql"
        and item.get_closest_marker("both_backends") is None
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in set(dropped)]




def _aes_key() -> str:
    return base64.b64encode(os.urandom(32)).decode().rstrip("=")


APP_ID = "wx5f1e2d3c4b5a6978"
APP_SECRET = "oa-app-secret"
OA_TOKEN = "oa-callback-token"
CORP_ID = "ww0a1b2c3d4e5f6071"
CORP_SECRET = "wecom-app-secret"
AGENT_ID = 1000002
WECOM_TOKEN = "wecom-callback-token"
TEMPLATES = {"task": "TPL_TASK_UPDATE", "default": "TPL_GENERAL_NOTICE"}


@pytest.fixture
def wechat_ids() -> dict[str, Any]:
    """The accounts' credentials (fresh AES keys per test)."""
    return {"oa_aes": _aes_key(), "wecom_aes": _aes_key()}


ACCOUNTS: dict[str, Any] = {"app_id": APP_ID, "app_secret": APP_SECRET, "corp_id": CORP_ID,
                            "corp_secret": CORP_SECRET, "agent_id": AGENT_ID, "template_ids": set(TEMPLATES.values())}


@pytest.fixture(scope="session")
def fake_server() -> Iterator[Any]:
    """The fake WeChat API server, on a local port, for the whole session."""
    from storage.clock import SystemClock

    fake = fake_module.FakeWeChatApi(SystemClock(), **ACCOUNTS)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session", autouse=True)
def warm_parser() -> None:
    """Load jieba/jionlp once (as the channels' start() does): a cold first parse outlasts the budget."""
    from handlers.language.request_parser import warm_up

    warm_up()


@pytest.fixture
def fake_api(fake_server: Any, clock: Any) -> Any:
    """The fake WeChat API with fresh accounts on this test's clock."""
    fake_server.reset(clock, **ACCOUNTS)
    return fake_server


def clock_limiter(clock: Any) -> MemoryRateLimiter:
    """A rate limiter on the test's clock; waiting moves the clock instead of sleeping."""

    async def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    return MemoryRateLimiter(now=lambda: clock.now().timestamp(), sleep=sleep)


@dataclass
class WeChatWorld:
    """Both channels, the relay, the fake API and WeChat's side of the callbacks."""

    chat: Any
    fake: Any
    oa: WeChatChannel
    wecom: WeComChannel
    relay: Relay
    http: httpx.AsyncClient
    resident: Any
    member: Any
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def settle(self) -> int:
        """Let late handlers finish and deliver everything owed; returns how many were sent."""
        sent = 0
        for _ in range(20):
            await self.oa.desk.drain()
            await self.wecom.desk.drain()
            n = await self.relay.deliver_pending()
            sent += n
            if n == 0:
                return sent
        return sent

    async def close(self) -> None:
        for close in self.closers:
            await close()


@pytest.fixture
async def make_world(chat: Any, fake_api: Any, clock: Any, wechat_ids: dict[str, Any]) -> AsyncIterator[Any]:
    """Build a WeChatWorld: `encrypted` Official Account or plain, a custom engine or budget."""
    worlds: list[WeChatWorld] = []

    async def build(*, encrypted: bool = True, engine: Engine | None = None, budget: float = 3.0,
                    template_ids: dict[str, str] | None = None) -> WeChatWorld:
        engine = engine or chat.engine
        oa_api = build_api(name=f"oa:{APP_ID}", base_url=fake_api.base_url + "/oa", clock=clock, wecom=False,
                           account_id=APP_ID, secret=APP_SECRET, http=api_http_client())
        oa = WeChatChannel(engine=engine, api=oa_api, budget=budget,
                           codec=CallbackCodec(token=OA_TOKEN, receiver_id=APP_ID,
                                               aes_key=wechat_ids["oa_aes"] if encrypted else None),
                           template_ids=TEMPLATES if template_ids is None else template_ids)
        wecom_api = build_api(name=f"wecom:{CORP_ID}", base_url=fake_api.base_url + "/wecom", clock=clock,
                              wecom=True, account_id=CORP_ID, secret=CORP_SECRET, http=api_http_client())
        wecom = WeComChannel(engine=engine, api=wecom_api, budget=budget,
                             codec=CallbackCodec(token=WECOM_TOKEN, receiver_id=CORP_ID,
                                                 aes_key=wechat_ids["wecom_aes"], wecom=True),
                             agent_id=AGENT_ID, corp_id=CORP_ID, limiter=clock_limiter(clock))
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(oa.routes() + wecom.routes())),
                                 base_url="http://xinfeng.test")
        resident = callbacks_module.WeChatServer(
            http, path="/wechat", token=OA_TOKEN, receiver_id=APP_ID, clock=clock,
            aes_key=wechat_ids["oa_aes"] if encrypted else None, fake=fake_api)
        member = callbacks_module.WeChatServer(
            http, path="/wecom", token=WECOM_TOKEN, receiver_id=CORP_ID, clock=clock,
            aes_key=wechat_ids["wecom_aes"], wecom=True, fake=fake_api, agent_id=AGENT_ID)
        world = WeChatWorld(chat, fake_api, oa, wecom, Relay(chat.sessions, clock, [oa, wecom]), http,
                            resident, member, [oa.stop, wecom.stop, http.aclose])
        worlds.append(world)
        return world

    yield build
    for world in worlds:
        await world.close()


@pytest.fixture
async def world(make_world: Any) -> Any:
    """The default world: Official Account in encrypted mode, WeCom app, 3-second budget."""
    return await make_world()
