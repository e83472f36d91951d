"""`xinfeng run`: every configured channel, the HTTP server, the outbox relay and the scheduler.

With no chat channel configured it opens the console chat on the demo county instead, so a
newcomer's `make run` shows the bot working at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any, Protocol

from bot.relay import Relay, RelayLoop
from bot.runtime import Runtime
from bot.settings import Settings
from scheduler.clock import start_ticking

log = logging.getLogger(__name__)


class ChannelService(Protocol):
    """A chat channel that runs inside `xinfeng run`."""

    platform: str

    async def send(self, message: Any) -> str | None:
        """Deliver one outbound message (see bot.relay.Channel)."""
        ...

    def routes(self) -> list[Any]:
        """Starlette routes this channel serves on the bot's HTTP server (webhooks)."""
        ...

    async def start(self) -> None:
        """Begin receiving (polling loop, webhook registration)."""
        ...

    async def stop(self) -> None:
        """Stop receiving and release clients."""
        ...


def configured_channels(settings: Settings, rt: Runtime, kick: Any) -> list[ChannelService]:
    """The chat channels whose credentials are set, built explicitly (no discovery by import).

    `kick` is called after each handled message so replies leave at once.
    """
    channels: list[ChannelService] = []
    return channels


async def serve(settings: Settings, rt: Runtime, channels: list[ChannelService]) -> None:
    """Run channels, HTTP server, relay and scheduler until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    relay = RelayLoop(Relay(rt.sessions, rt.clock, list(channels)))
    scheduler = start_ticking(rt.sessions, rt.clock, after_tick=relay.relay.deliver_pending)
    tasks = [asyncio.create_task(relay.run(stop), name="relay")]
    routes = [r for c in channels for r in c.routes()]
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
    scheduler.shutdown(wait=False)
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
