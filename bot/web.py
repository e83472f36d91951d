"""The bot's HTTP server (ASGI, Starlette): webhook routes contributed by the channels, and health."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route


async def _health(_: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def build_app(routes: Sequence[BaseRoute]) -> Starlette:
    """An ASGI app serving the given routes plus `/healthz`."""
    return Starlette(routes=[Route("/healthz", _health), *routes])
