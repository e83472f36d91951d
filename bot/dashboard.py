"""The read-only web dashboard (数据地图后台): `/dashboard` and the JSON API under `/api/` that it uses.

An admin gets a one-time link in chat (`后台`); `/dashboard/login?token=…` trades it for a
session cookie bound to that admin's scope, then redirects to `/dashboard` (so the token
leaves the address bar). Every API call checks the session and that the unit asked for lies
inside its scope — a station admin asking for another station gets 403, whatever the page
does. The page itself is static (`bot/static/`): no CDN, no inline script, nothing external.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from storage.clock import Clock
from storage.datamap.dashboard_links import (
    SESSION_TTL,
    end_session,
    redeem_link,
    session_scope,
)
from storage.datamap.figures import Figures, children_figures, figures
from storage.datamap.recent import latest_activities, latest_tasks
from storage.db import Session, Sessions
from storage.models import OrgUnit, Person
from storage.people.network import ancestors, unit_by_code

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
COOKIE = "xinfeng_dashboard"
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'",
}
Scoped = Callable[[Request, Session, Person, OrgUnit], Awaitable[Response]]


def _page(title: str, body: str, status: int) -> HTMLResponse:
    html = (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{title}</title>"
            f"<link rel='stylesheet' href='/dashboard/static/dashboard.css'></head>"
            f"<body><main class='notice'><h1>{title}</h1><p>{body}</p></main></body></html>")
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def summary(fig: Figures) -> dict[str, Any]:
    """A child's figures as the tree and the comparison chart show them."""
    return {"code": fig.code, "name": fig.name, "level": fig.level, "units": fig.units, "teams": fig.teams,
            "volunteers": fig.volunteers, "active_volunteers": fig.active_volunteers, "tasks": fig.tasks,
            "hours": float(fig.hours), "activities": fig.activities, "beneficiaries": fig.beneficiaries}


class Dashboard:
    """The dashboard's request handlers, over one database and clock."""

    def __init__(self, sessions: Sessions, clock: Clock, *, secure_cookie: bool = False):
        self.sessions = sessions
        self.clock = clock
        self.secure_cookie = secure_cookie

    async def login(self, request: Request) -> Response:
        """Trade a one-time link for a session cookie."""
        token = request.query_params.get("token", "")
        async with self.sessions() as session:
            opened = await redeem_link(session=session, token=token, now=self.clock.now()) if token else None
            await session.commit()
        if opened is None:
            return _page("链接已失效", "这个登录链接已经用过或已过期。请在聊天中给机器人发送「后台」，获取新的链接。", 403)
        response = RedirectResponse("/dashboard", status_code=303, headers=HEADERS)
        response.set_cookie(COOKIE, opened, max_age=int(SESSION_TTL.total_seconds()), httponly=True,
                            samesite="lax", secure=self.secure_cookie, path="/")
        return response

    async def logout(self, request: Request) -> Response:
        """Forget this browser's session."""
        token = request.cookies.get(COOKIE)
        if token:
            async with self.sessions() as session:
                await end_session(session=session, token=token)
                await session.commit()
        response = _page("已退出", "您已退出数据地图后台。", 200)
        response.delete_cookie(COOKIE, path="/")
        return response

    async def page(self, request: Request) -> Response:
        """The single page, for a logged-in admin."""
        async with self.sessions() as session:
            found = await self._scope(request, session)
        if found is None:
            return _page("请先登录", "请在聊天中给机器人发送「后台」，用收到的一次性链接打开数据地图。", 401)
        return FileResponse(STATIC / "dashboard.html", media_type="text/html", headers=HEADERS)

    async def asset(self, request: Request) -> Response:
        """The page's script and style (nothing else is served from the folder)."""
        name = request.path_params["name"]
        if name not in ASSETS:
            return Response("not found", status_code=404)
        return FileResponse(STATIC / name, media_type=ASSETS[name], headers=HEADERS)

    async def _scope(self, request: Request, session: Session) -> tuple[Person, OrgUnit] | None:
        token = request.cookies.get(COOKIE)
        return await session_scope(session=session, token=token, now=self.clock.now()) if token else None

    def api(self, handler: Scoped) -> Callable[[Request], Awaitable[Response]]:
        """Wrap an API handler: 401 without a live session."""

        async def endpoint(request: Request) -> Response:
            async with self.sessions() as session:
                found = await self._scope(request, session)
                if found is None:
                    return JSONResponse({"error": "unauthorized", "message": "请先用聊天里收到的链接登录"},
                                        status_code=401, headers=HEADERS)
                return await handler(request, session, *found)

        return endpoint

    async def _unit(self, request: Request, session: Session, scope: OrgUnit) -> OrgUnit | Response:
        code = request.path_params["code"]
        unit = await unit_by_code(session, code)
        if unit is None:
            return JSONResponse({"error": "not_found", "message": f"没有编码为 {code} 的地区"}, status_code=404,
                                headers=HEADERS)
        if not unit.path.startswith(scope.path):
            return JSONResponse({"error": "forbidden", "message": "无权查看该地区：它不在您的管辖范围内"},
                                status_code=403, headers=HEADERS)
        return unit

    async def me(self, request: Request, session: Session, person: Person, scope: OrgUnit) -> Response:
        """Who is logged in, and what they may see."""
        return JSONResponse({"name": person.name,
                             "scope": {"code": scope.code, "name": scope.name, "level": scope.level}},
                            headers=HEADERS)

    async def unit(self, request: Request, session: Session, person: Person, scope: OrgUnit) -> Response:
        """A unit's figures, its children's, and the way up to the scope."""
        unit = await self._unit(request, session, scope)
        if isinstance(unit, Response):
            return unit
        now = self.clock.now()
        fig = await figures(session, unit, now)
        kids = await children_figures(session, unit, now)
        trail = [u for u in reversed(await ancestors(session, unit)) if u.path.startswith(scope.path)]
        return JSONResponse({"unit": fig.to_dict(), "children": [summary(k) for k in kids],
                             "trail": [{"code": u.code, "name": u.name} for u in trail]}, headers=HEADERS)

    async def latest(self, request: Request, session: Session, person: Person, scope: OrgUnit) -> Response:
        """The newest tasks and activities under a unit."""
        unit = await self._unit(request, session, scope)
        if isinstance(unit, Response):
            return unit
        return JSONResponse({"tasks": await latest_tasks(session, unit),
                             "activities": await latest_activities(session, unit)}, headers=HEADERS)


def dashboard_routes(sessions: Sessions, clock: Clock, *,
                     secure_cookie: bool = False) -> list[Route]:
    """The dashboard's routes, for the bot's HTTP server."""
    d = Dashboard(sessions, clock, secure_cookie=secure_cookie)
    return [
        Route("/dashboard", d.page),
        Route("/dashboard/login", d.login),
        Route("/dashboard/logout", d.logout, methods=["POST"]),
        Route("/dashboard/static/{name}", d.asset),
        Route("/api/me", d.api(d.me)),
        Route("/api/units/{code}", d.api(d.unit)),
        Route("/api/units/{code}/latest", d.api(d.latest)),
    ]
