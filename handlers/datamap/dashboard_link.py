"""后台 [地区]: a one-time login link to the read-only web dashboard, bound to the admin's scope.

Only the token and the message are made here; the web side (`bot/dashboard.py`) redeems it.
A link is a key: it is sent only in a private chat, works once, and expires in ten minutes.
"""

from __future__ import annotations

from urllib.parse import quote

from handlers.core.context import Context
from handlers.core.router import Router
from handlers.core.scope import region_in_scope
from storage.datamap.dashboard_links import LINK_TTL, create_link

router = Router("dashboard_link")

DEFAULT_BASE = "http://127.0.0.1:8080"


def login_url(base: str, token: str) -> str:
    """The link an admin opens in a browser."""
    return f"{(base or DEFAULT_BASE).rstrip('/')}/dashboard/login?token={quote(token)}"


@router.command("后台", "/dashboard", "数据地图")
async def dashboard_link(ctx: Context, args: str) -> None:
    """Send me a one-time link to the dashboard of my scope (or a region inside it)."""
    if ctx.in_group:
        ctx.refuse("后台登录链接只能私聊发送，请私聊我发「后台」。", "dashboard_link")
        return
    unit = await region_in_scope(ctx, args, "dashboard_link")
    if unit is None:
        return
    token = await create_link(session=ctx.session, person_id=ctx.person.id, org_unit_id=unit.id, now=ctx.now)
    ctx.audit("dashboard_link", "org_unit", unit.id)
    minutes = int(LINK_TTL.total_seconds() // 60)
    ctx.reply(f"「{unit.name}」数据地图后台登录链接（{minutes} 分钟内有效，只能用一次，请勿转发）：\n"
              f"{login_url(ctx.public_url, token)}")
