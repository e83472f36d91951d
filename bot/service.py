"""`xinfeng run`: every configured channel, the HTTP server, the outbox relay and the scheduler.

With no chat channel configured it opens the console chat on the demo county instead, so a
newcomer's `make run` shows the bot working at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import Protocol

from starlette.routing import BaseRoute

from bot.delivery.relay import Relay, RelayLoop
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.core.messages import OutboundMessage
from scheduler.lease import build_lease
from scheduler.ticker import start_ticking, stop_ticking
from storage.messaging.outcomes import DeliveryOutcome

log = logging.getLogger(__name__)


class ChannelService(Protocol):
    """A chat channel that runs inside `xinfeng run`."""

    platform: str

    async def send(self, message: OutboundMessage) -> DeliveryOutcome:
        """Try to deliver one outbound message and report the outcome (see bot.delivery.relay.Channel)."""
        ...

    def routes(self) -> list[BaseRoute]:
        """Starlette routes this channel serves on the bot's HTTP server (webhooks)."""
        ...

    async def start(self) -> None:
        """Begin receiving (polling loop, webhook registration)."""
        ...

    async def stop(self) -> None:
        """Stop receiving and release clients."""
        ...


class Kick:
    """Wakes the relay after a handled message; channels get it before the relay exists."""

    def __init__(self) -> None:
        self.relay: RelayLoop | None = None

    def __call__(self) -> None:
        if self.relay is not None:
            self.relay.kick()


def configured_channels(settings: Settings, rt: Runtime, kick: Callable[[], None]) -> list[ChannelService]:
    """The chat channels whose credentials are set, each built by its `from_runtime` (no discovery by import).

    `kick` is called after each handled message so replies leave at once.
    """
    channels: list[ChannelService] = []
    if settings.telegram_token:
        from bot.channels.telegram.channel import TelegramChannel

        channels.append(TelegramChannel.from_runtime(settings, rt, kick))
    if settings.wechat_token and settings.wechat_app_id and settings.wechat_app_secret:
        from bot.channels.wechat.channel import WeChatChannel

        channels.append(WeChatChannel.from_runtime(settings, rt, kick))
    if (settings.wecom_corp_id and settings.wecom_agent_id is not None and settings.wecom_secret
            and settings.wecom_token and settings.wecom_aes_key):
        from bot.channels.wecom.channel import WeComChannel

        channels.append(WeComChannel.from_runtime(settings, rt, kick))
    return channels


async def serve(settings: Settings, rt: Runtime, channels: list[ChannelService], kick: Kick | None = None) -> None:
    """Run channels, HTTP server, relay and scheduler until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    relay = RelayLoop(Relay(rt.sessions, rt.clock, list(channels)))
    if kick is not None:
        kick.relay = relay
    scheduler = start_ticking(rt.sessions, rt.clock, after_tick=relay.relay.deliver_pending, tz=settings.tz,
                              lease=build_lease(rt.sessions, rt.redis))
    tasks = [asyncio.create_task(relay.run(stop), name="relay")]
    routes = [r for c in channels for r in c.routes()]
    from bot.dashboard import dashboard_routes

    # The data-map dashboard is always served: it is what makes the HTTP server worth running
    # even for a polling-only bot.
    routes += dashboard_routes(rt.sessions, rt.clock, secure_cookie=settings.dashboard_secure_cookie)
    server = None
    if routes:
        import uvicorn

        from bot.web import build_app

        config = uvicorn.Config(build_app(routes), host=settings.http_host, port=settings.http_port,
                                log_level=settings.log_level.lower(), lifespan="off")
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        tasks.append(asyncio.create_task(server.serve(), name="http"))
    for channel in channels:
        await channel.start()
    log.warning("xinfeng running: %s", ", ".join(c.platform for c in channels))
    await stop.wait()
    for channel in channels:
        await channel.stop()
    if server is not None:
        server.should_exit = True
    await stop_ticking(scheduler)
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
