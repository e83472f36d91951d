"""The bot's behaviour assembled: every feature's router, included explicitly, in order.

Order matters only for the free-text fallback (orders) — commands are matched by name.
"""

from __future__ import annotations

from handlers import dispatch, help, orders, registration, stats, tasks
from handlers.router import Dispatcher


def build_dispatcher() -> Dispatcher:
    """All routers of the bot."""
    return Dispatcher(
        help.router,
        registration.router,
        tasks.router,
        dispatch.router,
        stats.router,
        orders.router,
    )
