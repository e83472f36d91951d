"""The dashboard served on a real socket for the browser tests (Chromium needs a URL, not an ASGI app)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvicorn

from bot.dashboard import dashboard_routes
from bot.web import build_app
from tests.faults.servers import spare_port


@pytest.fixture
async def server(chat) -> AsyncIterator[str]:
    """The dashboard of the test county at http://127.0.0.1:<port>, stopped after the test."""
    port = spare_port()
    app = build_app(dashboard_routes(chat.sessions, chat.clock))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(srv.serve())
    while not srv.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)  # uvicorn says when its socket listens only by this flag
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    await asyncio.wait_for(task, timeout=10)
