"""The read-only web dashboard (数据地图后台): `/dashboard` and the JSON API under `/api/` that it uses.

An admin gets a one-time link in chat (`后台`); `/dashboard/login?token=…` trades it for a
session cookie bound to that admin's scope, then redirects to `/dashboard` (so the token
leaves the address bar). Every API call checks the session and that the unit asked for lies
inside its scope — a station admin asking for another station gets 403, whatever the page
does. The page itself is static (`bot/static/`): no CDN, no inline script, nothing external.
Apache ECharts is served from the npm package `make` installs (`/dashboard/static/echarts.min.js`);
without it the page shows tables and says why. Static files go out gzipped when the browser
takes it, with an ETag, so a phone downloads ECharts once.

A file a platform cannot carry (outside WeChat's 48-hour window, or too large) reaches its
recipient as a one-time link (`SentFileLinks`) to `/dashboard/sent/<outbox id>`, which lists
that message's files for the person it was sent to, and no one else.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

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
from storage.datamap.choropleth import unit_map
from storage.datamap.divisions import package_root
from storage.datamap.figures import Figures, children_figures, figures
from storage.datamap.recent import latest_activities, latest_tasks
from storage.datamap.sent_files import file_link, sent_attachments, sent_file
from storage.db import Session, Sessions
from handlers.core.messages import OutboundMessage
from storage.models import OrgUnit, Person
from storage.people.network import ancestors, unit_by_code

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
# Served from the installed npm package (node_modules), never committed.
VENDOR = {"echarts.min.js": ("echarts/dist/echarts.min.js", "text/javascript")}
COOKIE = "xinfeng_dashboard"
# Where a login link may lead after the cookie is set: the page, or one message's files.
_NEXT = re.compile(r"^/dashboard(/sent/\d+)?$")
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


@lru_cache(maxsize=16)
def _asset_bytes(path: Path, mtime: float) -> tuple[bytes, bytes, str]:
    """A static file, its gzip and its ETag (cached per modification time)."""
    data = path.read_bytes()
    return data, gzip.compress(data, 6, mtime=0), '"' + hashlib.sha256(data).hexdigest()[:20] + '"'


def asset_response(request: Request, path: Path, media_type: str) -> Response:
    """A static file: 304 when the browser has it, gzipped when it takes gzip."""
    data, packed, etag = _asset_bytes(path, path.stat().st_mtime)
    headers = {**HEADERS, "Cache-Control": "no-cache", "ETag": etag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(packed, media_type=media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(data, media_type=media_type, headers=headers)


def packed_json(request: Request, payload: dict[str, Any]) -> Response:
    """A large JSON answer (the map's GeoJSON), gzipped when the browser takes it."""
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {**HEADERS, "Vary": "Accept-Encoding"}
    if len(data) > 1024 and "gzip" in request.headers.get("accept-encoding", ""):
        return Response(gzip.compress(data, 6, mtime=0), media_type="application/json",
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(data, media_type="application/json", headers=headers)


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
        target = request.query_params.get("next", "/dashboard")
        response = RedirectResponse(target if _NEXT.match(target) else "/dashboard", status_code=303,
                                    headers=HEADERS)
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
        """The page's script and style, and ECharts when installed (nothing else is served)."""
        name = request.path_params["name"]
        if name in ASSETS:
            return asset_response(request, STATIC / name, ASSETS[name])
        if name in VENDOR:
            path = package_root() / VENDOR[name][0]
            if path.is_file():
                return asset_response(request, path, VENDOR[name][1])
        return Response("not found", status_code=404, headers=HEADERS)

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

    async def map(self, request: Request, session: Session, person: Person, scope: OrgUnit) -> Response:
        """The unit's children on their boundaries (GeoJSON) with every figure the map can show."""
        unit = await self._unit(request, session, scope)
        if isinstance(unit, Response):
            return unit
        drawn = await unit_map(session, unit, self.clock.now(), unit_figures=False)
        return packed_json(request, drawn.to_json())

    async def sent(self, request: Request) -> Response:
        """The files of one message, for the person it was sent to."""
        async with self.sessions() as session:
            found = await self._scope(request, session)
            if found is None:
                return _page("请先登录", "这个链接已经用过或已过期。请在聊天中发送「后台」获取新的链接。", 401)
            outbox_id = int(request.path_params["outbox_id"])
            files = await sent_attachments(session, outbox_id, found[0].id)
        if not files:
            return _page("没有找到文件", "这条消息不是发给您的，或者它没有附件。", 404)
        items = "".join(
            f"<li><a href='/dashboard/sent/{outbox_id}/{i}'>{html.escape(f['filename'])}</a>"
            f"（{max(1, int(f.get('size', 0)) // 1024)} KB）"
            + (f"<br><img src='/dashboard/sent/{outbox_id}/{i}' alt='{html.escape(f['filename'])}'>"
               if f.get("kind") == "photo" else "") + "</li>" for i, f in enumerate(files))
        return _page("新风发给您的文件", f"点文件名下载：</p><ul class='files'>{items}</ul><p>", 200)

    async def sent_file(self, request: Request) -> Response:
        """One file of a message, for the person it was sent to."""
        async with self.sessions() as session:
            found = await self._scope(request, session)
            if found is None:
                return Response("unauthorized", status_code=401, headers=HEADERS)
            got = await sent_file(session, int(request.path_params["outbox_id"]), found[0].id,
                                  int(request.path_params["index"]))
        if got is None:
            return Response("not found", status_code=404, headers=HEADERS)
        meta, data = got
        how = "inline" if meta.get("kind") == "photo" else "attachment"
        disposition = f"{how}; filename*=UTF-8''{quote(meta['filename'])}"
        return Response(data, media_type=meta.get("mime") or "application/octet-stream",
                        headers={**HEADERS, "Content-Disposition": disposition})

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
        Route("/dashboard/sent/{outbox_id:int}", d.sent),
        Route("/dashboard/sent/{outbox_id:int}/{index:int}", d.sent_file),
        Route("/api/me", d.api(d.me)),
        Route("/api/units/{code}", d.api(d.unit)),
        Route("/api/units/{code}/latest", d.api(d.latest)),
        Route("/api/units/{code}/map", d.api(d.map)),
    ]


def size_text(size: int) -> str:
    """2_500_000 → "2.4 MB"; 40_000 → "39 KB"."""
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{max(1, size // 1024)} KB"


def link_note(filename: str, size: int, url: str | None, why: str) -> str:
    """The message that stands in for a file a platform cannot carry: why, and the link if there is one."""
    if url is None:
        return f"📎 {filename}（{size_text(size)}）{why}，无法在这里发送。请在电脑上发「后台」登录数据地图查看。"
    return f"📎 {filename}（{size_text(size)}）{why}，请点链接查看或下载（24 小时内有效，只能打开一次）：\n{url}"


class SentFileLinks:
    """One-time links to files a channel could not send itself (see `storage.datamap.sent_files`)."""

    def __init__(self, sessions: Sessions, clock: Clock, public_url: str) -> None:
        self.sessions = sessions
        self.clock = clock
        self.public_url = public_url.rstrip("/")

    async def link(self, message: OutboundMessage) -> str | None:
        """A link that logs the recipient in and shows this message's files; None for a non-admin."""
        if message.outbox_id is None or message.person_id is None:
            return None
        async with self.sessions() as session:
            token = await file_link(session, message.person_id, self.clock.now())
            await session.commit()
        if token is None:
            return None
        return (f"{self.public_url}/dashboard/login?token={quote(token)}"
                f"&next={quote(f'/dashboard/sent/{message.outbox_id}', safe='')}")
