"""Real servers a fault test can break: a private redis-server on a spare port, killed and restarted.

Never the shared test Redis: a test that kills its server must own it. Each server is a child
process of the test, stopped by the fixture whatever the test did.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest


def spare_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """A redis-server of the test's own, with no persistence: `kill` (SIGKILL) and `start` it at will."""

    def __init__(self, binary: str, port: int) -> None:
        self.binary = binary
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A private redis-server, or skip when the machine has none."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(binary, spare_port())
    server.start()
    try:
        yield server
    finally:
        server.kill()


class TcpProxy:
    """A TCP proxy in front of a server (PostgreSQL) that a test can cut — every connection reset and
    new ones refused — and restore, as a network or a restarting server would; or freeze — bytes
    stop flowing both ways, every connection stays open — and unfreeze, as a stalled network or a
    server paused by its host would."""

    def __init__(self, target_host: str, target_port: int) -> None:
        import asyncio

        self.target = (target_host, target_port)
        self.port = 0
        self.cut_off = False
        self._server: object = None
        self._pairs: set[object] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    async def start(self) -> None:
        import asyncio

        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port or 0)
        self.port = self._server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def _accept(self, reader, writer) -> None:  # type: ignore[no-untyped-def]
        import asyncio

        if self.cut_off:
            writer.transport.abort()
            return
        opening = b""
        if not self._flowing.is_set():
            # A frozen server completes no handshake, and must not gain a backend for every try a
            # client gives up on (PostgreSQL's max_connections): the opening bytes wait here.
            opening = await reader.read(65536)
            await self._flowing.wait()
            if not opening or reader.at_eof() or self.cut_off:
                writer.transport.abort()
                return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        if opening:
            up_writer.write(opening)
        pair = (writer, up_writer)
        self._pairs.add(pair)

        async def pipe(src, dst) -> None:  # type: ignore[no-untyped-def]
            try:
                while data := await src.read(65536):
                    await self._flowing.wait()  # frozen: held here, the connection left open
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._pairs.discard(pair)

    def cut(self) -> None:
        """Reset every connection and refuse new ones until `restore`."""
        self.cut_off = True
        for a, b in list(self._pairs):
            a.transport.abort()  # type: ignore[attr-defined]
            b.transport.abort()  # type: ignore[attr-defined]
        self._pairs.clear()

    def restore(self) -> None:
        self.cut_off = False

    def freeze(self) -> None:
        """Stop forwarding bytes (new connections are accepted and hang too) without closing anything."""
        self._flowing.clear()

    def unfreeze(self) -> None:
        """Forward again, starting with what was held."""
        self._flowing.set()

    async def stop(self) -> None:
        self._flowing.set()
        self.cut()
        if self._server is not None:
            self._server.close()  # type: ignore[attr-defined]
            await self._server.wait_closed()  # type: ignore[attr-defined]


@asynccontextmanager
async def database_behind_a_proxy(engine: Any) -> AsyncIterator[tuple[TcpProxy, Any]]:
    """The test's PostgreSQL reached through a `TcpProxy`: (the proxy to cut, an engine through it).

    Skips on SQLite (a file has no connection to cut). Both are stopped whatever the test did.
    """
    from storage.db import create_engine

    if engine.dialect.name != "postgresql":
        pytest.skip("connections are cut through a TCP proxy in front of PostgreSQL")
    url = engine.url
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    through = create_engine(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    try:
        yield proxy, through
    finally:
        await through.dispose()
        await proxy.stop()
