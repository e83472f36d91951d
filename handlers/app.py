"""The bot's behaviour assembled: every feature's router, included explicitly, in order.

Order matters only for the free-text fallback (orders) — commands are matched by name.
"""

from __future__ import annotations

from handlers import dispatch, help, orders, registration, stats, tasks
from handlers import pairing, points, wishes
from handlers import contact, groups
from handlers import welcome
from handlers import activities, attendance, broadcast, projects
from handlers import moral_day
from handlers import dashboard_link, exports
from handlers.router import Dispatcher


def build_dispatcher() -> Dispatcher:
    """All routers of the bot."""
    return Dispatcher(
        help.router,
        welcome.router,
        registration.router,
        tasks.router,
        dispatch.router,
        stats.router,
        exports.router,
        dashboard_link.router,
        points.router,
        wishes.router,
        pairing.router,
        activities.router,
        attendance.router,
        broadcast.router,
        projects.router,
        groups.router,
        contact.router,
        moral_day.router,
        orders.router,
    )
