"""The bot's HTTP server (ASGI, Starlette): webhook routes contributed by the channels, and health."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def _health(_: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def build_app(routes: list[Any]) -> Starlette:
    """An ASGI app serving the given routes plus `/healthz`."""
    return Starlette(routes=[Route("/healthz", _health), *routes])
