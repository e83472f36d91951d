"""The bot's behaviour assembled: every feature's router, included explicitly, in order.

Order matters only for the free-text fallback (task intake) — commands are matched by name.
"""

from __future__ import annotations

from handlers.activities import activities, attendance, broadcast, changes, moral_day, projects
from handlers.core.router import Dispatcher
from handlers.datamap import dashboard_link, exports, stats
from handlers.people import contact, groups, help, invite, me, registration, welcome
from handlers.people import invite_rotation, join_requests
from handlers.people import customer_groups
from handlers.programmes import pairing, points, wishes
from handlers.tasks import dispatch, intake, lifecycle
from handlers.tasks import overtime


def build_dispatcher() -> Dispatcher:
    """All routers of the bot."""
    return Dispatcher(
        help.router,
        welcome.router,
        registration.router,
        join_requests.router,
        invite_rotation.router,
        lifecycle.router,
        overtime.router,
        me.router,
        dispatch.router,
        stats.router,
        exports.router,
        dashboard_link.router,
        points.router,
        wishes.router,
        pairing.router,
        activities.router,
        changes.router,
        attendance.router,
        broadcast.router,
        projects.router,
        customer_groups.router,
        groups.router,
        invite.router,
        contact.router,
        moral_day.router,
        intake.router,
    )
