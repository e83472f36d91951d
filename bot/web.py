"""The bot's HTTP server (ASGI, Starlette): webhook routes contributed by the channels, health and metrics.

- `/healthz` — the process is alive (it answers): always 200 "ok". For a container's or
  systemd's liveness check: restart the process when it stops answering.
- `/readyz` — the process can do its work: 200 only when the database answers, its schema is
  at this code's migration head, Redis answers (when configured), and the outbox relay and the
  scheduler are running; otherwise 503. Both answers say, in JSON, how each check went. For
  the reverse proxy: send traffic only to ready workers.
- `/metrics` — Prometheus' text format (see `bot.metrics`); `RequestCounter` counts every
  request by the route that served it and its status.

None of the three is meant for the internet: the reverse proxy routes only the webhooks and
the dashboard, and Prometheus scrapes each worker directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.metrics import Metrics
from storage.db import Sessions
from storage.metrics import ping, schema_revision

if TYPE_CHECKING:
    from redis.asyncio import Redis

Check = dict[str, Any]


def _failed(exc: BaseException) -> str:
    """An exception as a short line for the JSON answer (a timeout has no message of its own)."""
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return f"{type(exc).__name__}: {exc}"[:300]


@dataclass
class Health:
    """The readiness checks of one `xinfeng run` process."""

    sessions: Sessions
    head: str  # the migration head this code expects (storage.migrate.head_revision)
    metrics: Metrics  # the relay's and the scheduler's signs of life
    redis: Redis | None = None
    timeout: float = 2.0

    async def database(self) -> tuple[Check, Check]:
        """Whether the database answers, and whether its schema is at the head."""
        try:
            async with asyncio.timeout(self.timeout):
                async with self.sessions() as session:
                    await ping(session)
                    revision = await schema_revision(session)
        except Exception as exc:  # down, refusing, or too slow: not ready, and why
            return {"ok": False, "error": _failed(exc)}, {"ok": False, "error": "database not reachable"}
        if revision == self.head:
            return {"ok": True}, {"ok": True, "revision": revision}
        found = "never migrated" if revision is None else f"at {revision}"
        return {"ok": True}, {"ok": False, "revision": revision, "head": self.head,
                              "error": f"database {found}, code expects {self.head}: run `xinfeng db upgrade`"}

    async def cache(self) -> Check:
        """Whether Redis answers (ok when none is configured)."""
        if self.redis is None:
            return {"ok": True, "configured": False}
        try:
            async with asyncio.timeout(self.timeout):
                await self.redis.ping()
        except Exception as exc:
            return {"ok": False, "error": _failed(exc)}
        return {"ok": True}

    async def checks(self) -> dict[str, Check]:
        """Every check, by name."""
        (database, migrations), redis = await asyncio.gather(self.database(), self.cache())
        relay, scheduler = self.metrics.relay_problem(), self.metrics.scheduler_problem()
        return {
            "database": database,
            "migrations": migrations,
            "redis": redis,
            "relay": {"ok": True} if relay is None else {"ok": False, "error": relay},
            "scheduler": ({"ok": True, "leader": self.metrics.leading} if scheduler is None
                          else {"ok": False, "error": scheduler}),
        }


class RequestCounter:
    """ASGI middleware: counts requests by the route that served them (its path pattern) and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = list(routes)

    def route_of(self, scope: Scope) -> str:
        """The path pattern of the route matching the request ("/api/units/{code}"), or "unmatched"."""
        for route in self.routes:
            if route.matches(scope)[0] is not Match.NONE:
                return str(getattr(route, "path", "?"))
        return "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, noting the status it was answered with."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app fails before answering

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            self.metrics.http.labels(self.route_of(scope), str(status)).inc()


async def _alive(_: Request) -> PlainTextResponse:
    """Answer: the process runs."""
    return PlainTextResponse("ok")


def _ready(health: Health) -> Route:
    """The `/readyz` route: 200 or 503, with every check's result."""

    async def ready(_: Request) -> JSONResponse:
        checks = await health.checks()
        ok = all(c["ok"] for c in checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503,
                            headers={"Cache-Control": "no-store"})

    return Route("/readyz", ready)


def _metrics(metrics: Metrics) -> Route:
    """The `/metrics` route: the database read afresh, then everything in Prometheus' text format."""

    async def scrape(_: Request) -> Response:
        return Response(await metrics.scrape(), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", scrape)


def build_app(routes: Sequence[BaseRoute], health: Health | None = None) -> Starlette:
    """An ASGI app serving the given routes plus `/healthz`; `/readyz` and `/metrics` too given a `Health`."""
    all_routes: list[BaseRoute] = [Route("/healthz", _alive), *routes]
    if health is None:
        return Starlette(routes=all_routes)
    all_routes += [_ready(health), _metrics(health.metrics)]
    return Starlette(routes=all_routes,
                     middleware=[Middleware(RequestCounter, metrics=health.metrics, routes=all_routes)])
