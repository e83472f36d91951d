"""The cluster's processes: a `xinfeng run` worker (started, watched, killed) and the round-robin
webhook proxy in front of the workers (`tests/faults/cluster.py` says how they fit together)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the bench imports this file from outside the test run
    sys.path.insert(0, str(ROOT))

from tests.bot.channels.telegram.fake_bot_api import _read_request as read_request  # noqa: E402
from tests.faults.servers import spare_port  # noqa: E402


class Worker:
    """One `xinfeng run` process: started, killed (SIGKILL) or stopped (SIGTERM), its log in a file."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.port = spare_port()
        self.env = {**env, "XINFENG_HTTP_PORT": str(self.port)}
        self.workdir = workdir
        self.log = workdir / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        self.starts += 1
        out = self.log.open("a")
        out.write(f"===== start {self.starts} at {datetime.now(timezone.utc).isoformat()}\n")
        out.flush()
        # The working directory is the test's: no stray .env of the repository is read.
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=self.workdir, env=self.env,
            stdout=out, stderr=asyncio.subprocess.STDOUT)
        out.close()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def ready(self, timeout: float = 60.0) -> None:
        """Wait (bounded) until this start's channels are up: the service logs "xinfeng running"."""
        deadline = time.monotonic() + timeout
        marker = f"===== start {self.starts} "
        while time.monotonic() < deadline:
            current = self.log_text().rsplit(marker, 1)[-1]
            if "xinfeng running" in current:
                return
            if not self.alive:
                raise RuntimeError(f"worker {self.name} exited ({self.proc and self.proc.returncode}):\n"
                                   f"{current[-3000:]}")
            await asyncio.sleep(0.05)
        raise TimeoutError(f"worker {self.name} not ready in {timeout} s:\n{self.log_text()[-3000:]}")

    def kill(self) -> None:
        """kill -9."""
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)

    async def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited in `timeout`."""
        if self.proc is None:
            return
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        else:
            await self.proc.wait()


class RoundRobinProxy:
    """The webhook URL: each POST goes to the next worker in turn; 502 when that worker does not answer.

    A real load balancer would mark a dead backend down; this one keeps trying it, so a dead
    worker costs the platform a redelivery per try, as the harshest balancer would.
    """

    def __init__(self, backends: list[Worker], timeout: float = 30.0) -> None:
        self.backends = backends
        self.port = 0
        self._next = 0
        self._server: asyncio.AbstractServer | None = None
        self._client = httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=200))
        self.answers: Counter[int] = Counter()
        self._connections: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram/webhook"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                request = await read_request(reader)
                if request is None:
                    return
                verb, target, headers, body = request
                backend = self.backends[self._next % len(self.backends)]
                self._next += 1
                forwarded = {k: v for k, v in headers.items()
                             if k not in ("host", "content-length", "connection", "transfer-encoding")}
                try:
                    response = await self._client.request(verb, backend.url + target, headers=forwarded,
                                                          content=body)
                    status, payload = response.status_code, response.content
                except httpx.HTTPError:
                    status, payload = 502, b"bad gateway"
                self.answers[status] += 1
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: {len(payload)}\r\n"
                             "Connection: keep-alive\r\n\r\n".encode() + payload)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            self._connections.discard(writer)
            writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._connections):
                w.transport.abort()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
        await self._client.aclose()


