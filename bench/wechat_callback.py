"""Passive-reply latency of the Official Account callback: 1,000 callbacks, 20 at a time.

Run by hand:  .venv/bin/python bench/wechat_callback.py [--callbacks 1000] [--concurrency 20]
              [--database-url postgresql+asyncpg://…]   (default: a fresh SQLite file;
              on PostgreSQL each run gets schemas of its own, dropped afterwards)

Each callback is a signed (and, in encrypted mode, AES-encrypted) text message built with
wechatpy's crypto, POSTed over real HTTP to the bot's `/wechat` route served by uvicorn on
localhost; the time is from sending the request to having the passive reply. 100 users send
"帮助" and "我的" in turn. The baseline, measured in the same run, is the same messages handed
straight to `Engine.handle` (no HTTP, XML, crypto, window or passive-reply claim), so the
ratio is what the channel adds. The aim (issue #4) is p99 under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from sqlalchemy import text  # noqa: E402
from wechatpy.crypto import WeChatCrypto  # noqa: E402

from bot.channels.wechat.channel import WeChatChannel  # noqa: E402
from bot.channels.wechat.api import build_api  # noqa: E402
from bot.channels.wechat.callbacks import CallbackCodec, sign  # noqa: E402
from bot.web import build_app  # noqa: E402
from handlers.app import build_dispatcher  # noqa: E402
from handlers.core.messages import InboundMessage  # noqa: E402
from handlers.core.engine import Engine  # noqa: E402
from handlers.language.request_parser import warm_up  # noqa: E402
from storage.clock import SystemClock  # noqa: E402
from storage.db import create_all, create_engine, session_factory  # noqa: E402

TOKEN, APP_ID = "bench-token", "wxbench0000000001"
USERS = 100


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def run_concurrently(jobs: list[Callable[[], Awaitable[None]]], concurrency: int) -> list[float]:
    """Run the jobs `concurrency` at a time; each one's latency in milliseconds."""
    queue: asyncio.Queue[Callable[[], Awaitable[None]]] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    latencies: list[float] = []

    async def worker() -> None:
        while not queue.empty():
            job = queue.get_nowait()
            started = time.perf_counter()
            await job()
            latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def callback(n: int, crypto: WeChatCrypto | None) -> tuple[dict[str, str], bytes]:
    """The n-th callback's query and body, signed like WeChat signs them."""
    user = f"o-bench-{n % USERS}"
    text = "帮助" if n // USERS % 2 == 0 else "我的"
    xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
           f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{text}]]></Content><MsgId>{9_000_000 + n}</MsgId></xml>")
    ts, nonce = str(int(time.time())), f"n{n}"
    params = {"timestamp": ts, "nonce": nonce, "signature": sign(TOKEN, ts, nonce)}
    if crypto is None:
        return params, xml.encode()
    sealed = crypto.encrypt_message(xml, nonce, ts)
    cipher = sealed.split("<Encrypt><![CDATA[", 1)[1].split("]]></Encrypt>", 1)[0]
    params.update(encrypt_type="aes", msg_signature=sign(TOKEN, ts, nonce, cipher))
    return params, f"<xml><ToUserName><![CDATA[{APP_ID}]]></ToUserName><Encrypt><![CDATA[{cipher}]]></Encrypt></xml>".encode()


SCHEMAS: list[str] = []


async def fresh_engine(url: str | None, workdir: Path, name: str) -> tuple[Engine, object]:
    """A new, empty database: a SQLite file, or a schema of its own on PostgreSQL (dropped at the end)."""
    if url and url.startswith("postgresql"):
        schema = f"bench_{name}_{os.getpid()}"
        admin = create_engine(url)
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        SCHEMAS.append(schema)
        db = create_engine(url, connect_args={"server_settings": {"search_path": schema}}, pool_size=25,
                           max_overflow=10)
    else:
        db = create_engine(f"sqlite+aiosqlite:///{workdir / (name + '.db')}")
    await create_all(db)
    engine = Engine(sessions=session_factory(db), clock=SystemClock(), dispatcher=build_dispatcher(),
                    tz=ZoneInfo("Asia/Shanghai"))
    return engine, db


async def baseline(url: str | None, workdir: Path, count: int, concurrency: int) -> list[float]:
    """The same messages straight into the engine."""
    engine, db = await fresh_engine(url, workdir, "baseline")

    def job(n: int) -> Callable[[], Awaitable[None]]:
        user = f"o-bench-{n % USERS}"
        msg = InboundMessage(platform="wechat", user_id=user, chat_id=user, message_id=str(9_000_000 + n),
                             text="帮助" if n // USERS % 2 == 0 else "我的")

        async def run() -> None:
            await engine.handle(msg)

        return run

    latencies = await run_concurrently([job(n) for n in range(count)], concurrency)
    await db.dispose()  # type: ignore[attr-defined]
    return latencies


async def through_the_channel(url: str | None, workdir: Path, count: int, concurrency: int,
                              encrypted: bool) -> tuple[list[float], int]:
    """The callbacks over HTTP to the real route; returns latencies and how many got a passive reply."""
    engine, db = await fresh_engine(url, workdir, "encrypted" if encrypted else "plain")
    aes_key = base64.b64encode(os.urandom(32)).decode().rstrip("=") if encrypted else None
    api = build_api(name="bench", base_url="http://127.0.0.1:9", clock=SystemClock(), wecom=False,
                    account_id=APP_ID, secret="unused")  # passive replies call no API
    # As many handled at once as callbacks arrive at once: the benchmark measures the whole path.
    channel = WeChatChannel(engine=engine, api=api, inbound_concurrency=concurrency,
                            codec=CallbackCodec(token=TOKEN, receiver_id=APP_ID, aes_key=aes_key))
    sock = socket.socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    server = uvicorn.Server(uvicorn.Config(build_app(channel.routes()), lifespan="off", log_level="warning",
                                           access_log=False))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    crypto = WeChatCrypto(TOKEN, aes_key, APP_ID) if aes_key else None
    requests = [callback(n, crypto) for n in range(count)]
    replies = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    transport = httpx.AsyncHTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
                                         limits=limits)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", transport=transport,
                                 timeout=30.0) as http:

        def job(n: int) -> Callable[[], Awaitable[None]]:
            params, body = requests[n]

            async def run() -> None:
                nonlocal replies
                response = await http.post("/wechat", params=params, content=body)
                if response.status_code == 200 and response.text.startswith("<xml>"):
                    replies += 1

            return run

        latencies = await run_concurrently([job(n) for n in range(count)], concurrency)
    server.should_exit = True
    await serving
    await channel.stop()
    await db.dispose()  # type: ignore[attr-defined]
    return latencies, replies


async def codec_cost(count: int, encrypted: bool) -> list[float]:
    """The channel's own work per callback, without the database: verify, decrypt, parse, render, seal."""
    from datetime import datetime, timezone
    from urllib.parse import urlencode

    from starlette.requests import Request

    from bot.channels.wechat.callbacks import render_xml

    aes_key = base64.b64encode(os.urandom(32)).decode().rstrip("=") if encrypted else None
    codec = CallbackCodec(token=TOKEN, receiver_id=APP_ID, aes_key=aes_key)
    crypto = WeChatCrypto(TOKEN, aes_key, APP_ID) if aes_key else None
    now = datetime.now(timezone.utc)
    latencies: list[float] = []
    for n in range(count):
        params, body = callback(n, crypto)

        async def receive(body: bytes = body) -> dict[str, object]:
            return {"type": "http.request", "body": body, "more_body": False}

        scope = {"type": "http", "method": "POST", "path": "/wechat", "query_string": urlencode(params).encode(),
                 "headers": [(b"content-length", str(len(body)).encode())]}
        started = time.perf_counter()
        opened = await codec.open(Request(scope, receive), now)
        reply = render_xml({"ToUserName": opened.fields["FromUserName"], "FromUserName": "gh_bench",
                            "CreateTime": 0, "MsgType": "text", "Content": "我能帮您：" * 40})
        codec.seal(opened, reply)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def line(name: str, latencies: list[float], base_p99: float | None = None) -> str:
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    ratio = f"   p99 ×{p99 / base_p99:.2f} of baseline" if base_p99 else ""
    return (f"{name:<28} n={len(latencies):<5} p50={p50:7.1f} ms  p99={p99:7.1f} ms  "
            f"max={max(latencies):7.1f} ms  mean={statistics.mean(latencies):6.1f} ms{ratio}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callbacks", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file per run")
    args = parser.parse_args()
    url = args.database_url
    if url and not url.startswith("postgresql"):
        parser.error("--database-url: a postgresql+asyncpg:// URL (SQLite is the default)")
    warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        try:
            base = await baseline(url, workdir, args.callbacks, args.concurrency)
            plain, plain_replies = await through_the_channel(url, workdir, args.callbacks, args.concurrency,
                                                             encrypted=False)
            sealed, sealed_replies = await through_the_channel(url, workdir, args.callbacks, args.concurrency,
                                                               encrypted=True)
        finally:
            if SCHEMAS:
                admin = create_engine(url)
                async with admin.begin() as conn:
                    for schema in SCHEMAS:
                        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                await admin.dispose()
    base_p99 = percentile(base, 99)
    backend = "PostgreSQL" if url else "SQLite (a file in a temporary directory)"
    print(f"{args.callbacks} callbacks, {args.concurrency} concurrent, {backend}, server and client in one process")
    print(line("baseline: Engine.handle", base))
    print(line("plain callback → reply", plain, base_p99) + f"   passive replies {plain_replies}")
    print(line("encrypted callback → reply", sealed, base_p99) + f"   passive replies {sealed_replies}")
    print(line("codec only, plain", await codec_cost(args.callbacks, encrypted=False)))
    print(line("codec only, encrypted", await codec_cost(args.callbacks, encrypted=True)))
    worst = max(percentile(plain, 99), percentile(sealed, 99))
    print(f"aim p99 < 200 ms: {'met' if worst < 200 else 'NOT met'} (worst p99 {worst:.1f} ms)")


if __name__ == "__main__":
    asyncio.run(main())
