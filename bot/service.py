"""`xinfeng run`: every configured channel, the HTTP server, the outbox relay and the scheduler.

With no chat channel configured it opens the console chat on the demo county instead, so a
newcomer's `make run` shows the bot working at once (the console serves no HTTP).

The HTTP server also answers `/healthz`, `/readyz` and `/metrics` (`bot.web`, `bot.metrics`):
the relay sends through timed channels and reports its rounds, the scheduler its ticks, so
readiness can tell a loop that died from one that runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import Protocol

from starlette.routing import BaseRoute

from bot.delivery.presence import Presence, attach_courier, journal_dir
from bot.delivery.relay import RelayLoop
from bot.logs import LogCounter
from bot.metrics import Metrics, ObservedRelay, TimedChannel
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.core.messages import OutboundMessage
from scheduler.lease import build_lease
from scheduler.ticker import start_ticking, stop_ticking
from storage.messaging.outcomes import DeliveryOutcome
from storage.migrate import head_revision

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


async def serve(settings: Settings, rt: Runtime, channels: list[ChannelService], kick: Kick | None = None,
                stop: asyncio.Event | None = None) -> None:
    """Run channels, HTTP server, relay and scheduler until SIGINT/SIGTERM (or until `stop` is set)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    metrics = Metrics(sessions=rt.sessions, clock=rt.clock, channels=channels)
    # This worker's heartbeat: the lease on the outbox rows it sends (bot/delivery/presence.py).
    presence = Presence(rt.sessions, rt.clock, journal_dir=journal_dir())
    await presence.start()
    relay = RelayLoop(ObservedRelay(rt.sessions, rt.clock, [TimedChannel(c, metrics) for c in channels],
                                    metrics=metrics, presence=presence))
    if kick is not None:
        kick.relay = relay
    attach_courier(channels, relay.relay.courier)  # replies leave right after their commit
    scheduler = start_ticking(rt.sessions, rt.clock, after_tick=metrics.after_tick(relay.relay.deliver_pending),
                              tz=settings.tz, lease=build_lease(rt.sessions, rt.redis),
                              retention_days=settings.retention_days)
    tasks = [asyncio.create_task(relay.run(stop), name="relay")]
    if any(c.platform == "wecom" for c in channels):  # WeCom customer groups (issue 17)
        from bot.channels.wecom.group_rounds import run_customer_groups

        tasks.append(asyncio.create_task(run_customer_groups(settings, rt, stop), name="customer-groups"))
    metrics.watch(relay=tasks[0], scheduler=scheduler)
    counting = LogCounter(metrics)
    logging.getLogger().addHandler(counting)
    routes = [r for c in channels for r in c.routes()]
    from bot.dashboard import dashboard_routes

    # The data-map dashboard is always served: it is what makes the HTTP server worth running
    # even for a polling-only bot.
    routes += dashboard_routes(rt.sessions, rt.clock, secure_cookie=settings.dashboard_secure_cookie)
    import uvicorn

    from bot.web import Health, build_app

    health = Health(sessions=rt.sessions, head=await asyncio.to_thread(head_revision), metrics=metrics,
                    redis=rt.redis)
    # log_config=None: uvicorn's records go through the one handler `bot.logs` set up (text or JSON).
    config = uvicorn.Config(build_app(routes, health), host=settings.http_host, port=settings.http_port,
                            log_level=settings.log_level.lower(), log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    tasks.append(asyncio.create_task(server.serve(), name="http"))
    try:
        for channel in channels:
            await channel.start()
        log.warning("xinfeng running: %s (http://%s:%s)", ", ".join(c.platform for c in channels),
                    settings.http_host, settings.http_port)
        await stop.wait()
    finally:
        stop.set()
        for channel in channels:
            await channel.stop()
        server.should_exit = True
        await stop_ticking(scheduler)
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)
        await relay.relay.courier.drain(timeout=10)
        await presence.stop()
        logging.getLogger().removeHandler(counting)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
