"""后台 [地区]: a one-time login link to the read-only web dashboard, bound to the admin's scope.

The action (`issue_dashboard_link`) checks the scope and makes the token; the web side
(`bot/dashboard.py`) redeems it. A link is a key: it is sent only in a private chat, works
once, and expires in ten minutes.
"""

from __future__ import annotations

from urllib.parse import quote

from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.router import Router
from handlers.datamap.actions import issue_dashboard_link
from handlers.datamap.regions import RegionNotFound

router = Router("dashboard_link")

DEFAULT_BASE = "http://127.0.0.1:8080"


def login_url(base: str, token: str) -> str:
    """The link an admin opens in a browser."""
    return f"{(base or DEFAULT_BASE).rstrip('/')}/dashboard/login?token={quote(token)}"


@router.command("后台", "/dashboard", "数据地图")
async def dashboard_link(ctx: Context, args: str) -> None:
    """Send me a one-time link to the dashboard of my scope (or a region inside it)."""
    outcome = await issue_dashboard_link(ctx.act, region=args, private=not ctx.in_group)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, RegionNotFound):
        ctx.reply(outcome.text)
    else:
        ctx.reply(f"「{outcome.unit.name}」数据地图后台登录链接（{outcome.minutes} 分钟内有效，只能用一次，请勿转发）：\n"
                  f"{login_url(ctx.public_url, outcome.token)}")
