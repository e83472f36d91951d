"""Benchmark the Telegram channel against the fake Bot API (run by hand, prints figures).

1. Updates per second through the whole stack — python-telegram-bot's client, update → message,
   inbox, handler, database, outbox, relay, sendMessage — against a bare python-telegram-bot
   echo bot (an `Application` with one `MessageHandler`), measured in the same run on the same
   fake server with its limits switched off, so only processing is measured. Prints both and
   the ratio (aim: ≥ 0.5).
2. A broadcast of 5,000 messages to distinct chats against the fake with Telegram's real
   limits (30/s per bot, 1/s per chat): the achieved rate versus the configured limit
   (default 25/s; aim ≥ 90%) and the number of 429s received (aim: 0).

    .venv/bin/python bench/telegram_throughput.py                  # SQLite in a temp dir
    .venv/bin/python bench/telegram_throughput.py --updates 300 --broadcast 500
    .venv/bin/python bench/telegram_throughput.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench

The broadcast takes 5,000 / rate seconds (200 s at 25/s): that is the point.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.channels.base import parser_warmed  # noqa: E402
from bot.channels.telegram.channel import TelegramChannel  # noqa: E402
from bot.channels.telegram.config import TelegramConfig, TelegramLimits  # noqa: E402
from bot.delivery.ratelimit import MemoryRateLimiter  # noqa: E402
from bot.delivery.relay import Relay, RelayLoop  # noqa: E402
from handlers.app import build_dispatcher  # noqa: E402
from handlers.core.engine import Engine  # noqa: E402
from handlers.core.messages import InboundMessage  # noqa: E402
from storage.clock import SystemClock  # noqa: E402
from storage.db import create_all, create_engine, session_factory  # noqa: E402
from storage.models import ChannelIdentity, OutboxMessage, Person  # noqa: E402
from storage.programmes.points import open_accounts  # noqa: E402
from sqlalchemy import event  # noqa: E402

from tests.bot.channels.telegram import fake_bot_api  # noqa: E402

TOKEN = "123456:BENCH-token"
FIRST_USER = 5_000_000


async def _wait_for(predicate: Any, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark did not finish in time")
        await asyncio.sleep(0.002)


def _fake(n_users: int, limits: Any) -> Any:
    fake = fake_bot_api.FakeBotAPI(TOKEN, limits=limits)
    for i in range(n_users):
        fake.add_user(FIRST_USER + i, f"用户{i}")
        fake.started.add(FIRST_USER + i)
    return fake


async def bare_echo(n: int) -> float:
    """Updates per second of a bare python-telegram-bot echo bot."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    fake = _fake(n, fake_bot_api.FakeLimits(enabled=False))
    await fake.start()
    for i in range(n):
        fake.user_says(FIRST_USER + i, "我的")

    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    app = ApplicationBuilder().token(TOKEN).base_url(fake.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    await app.start()
    start = time.perf_counter()
    assert app.updater is not None
    await app.updater.start_polling(timeout=1)
    await _wait_for(lambda: fake.sent_count >= n, 300)
    elapsed = time.perf_counter() - start
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    await fake.stop()
    return n / elapsed


async def _database(url: str | None, path: Path) -> Any:
    if url is None:
        db = create_engine(f"sqlite+aiosqlite:///{path}")
    else:  # a pool as large as the lanes, so connections are reused rather than reopened
        db = create_engine(url, pool_size=20, max_overflow=0)
    await create_all(db)
    return db


def wire_whole_stack(sessions: Any, fake: Any) -> tuple[Engine, TelegramChannel, RelayLoop]:
    """Engine, Telegram channel (polling the fake, limits off) and relay, wired as `xinfeng run` wires them."""
    engine = Engine(sessions=sessions, clock=SystemClock(), dispatcher=build_dispatcher(), tz=ZoneInfo("Asia/Shanghai"))
    unlimited = TelegramLimits(per_second=1_000_000, chat_interval=0.0001, group_period=0.0001, guard=0,
                               burst=1_000_000)
    config = TelegramConfig(token=TOKEN, api_url=fake.base_url, limits=unlimited, poll_timeout=1)
    loop_ref: dict[str, RelayLoop] = {}
    channel = TelegramChannel(config, engine=engine, limiter=MemoryRateLimiter(),
                              kick=lambda: loop_ref["loop"].kick())
    relay = loop_ref["loop"] = RelayLoop(Relay(sessions, engine.clock, [channel]), interval=0.05)
    # Replies leave right after their commit, from the handling worker.
    channel.kit.courier = relay.relay.courier
    return engine, channel, relay


async def whole_stack(n: int, url: str | None, tmp: Path) -> float:
    """Updates per second through channel, inbox, handler, database, outbox and relay."""
    db = await _database(url, tmp / "updates.db")
    sessions = session_factory(db)
    now = datetime.now(timezone.utc)
    async with sessions() as s:
        people = [Person(name=f"志愿者{i}", created_at=now, is_volunteer=True) for i in range(n)]
        s.add_all(people)
        await s.flush()
        s.add_all(ChannelIdentity(platform="telegram", external_id=str(FIRST_USER + i), person_id=p.id,
                                  last_seen_at=now) for i, p in enumerate(people))
        await open_accounts(s, [p.id for p in people], now)  # as joining a team or the roster import does
        await s.commit()
    fake = _fake(n, fake_bot_api.FakeLimits(enabled=False))
    await fake.start()
    for i in range(n):
        fake.user_says(FIRST_USER + i, "我的")
    engine, channel, relay = wire_whole_stack(sessions, fake)
    stop = asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stop))
    counted = {"statements": 0, "commits": 0}

    def statement(*_: Any) -> None:
        counted["statements"] += 1

    def commit(*_: Any) -> None:
        counted["commits"] += 1

    # Start-up, not throughput: `xinfeng run` loads the parser in a thread as it starts, and the
    # echo bot's clock also starts once it is initialised. (It was inside the figure: ~3 s of 300 updates.)
    warm = time.perf_counter()
    await parser_warmed()
    print(f"  parser warm-up (start-up, outside the figure): {time.perf_counter() - warm:.1f} s")
    event.listen(db.sync_engine, "before_cursor_execute", statement)
    event.listen(db.sync_engine, "commit", commit)
    start = time.perf_counter()
    await channel.start()
    await _wait_for(lambda: fake.sent_count >= n, 600)
    elapsed = time.perf_counter() - start
    event.remove(db.sync_engine, "before_cursor_execute", statement)
    event.remove(db.sync_engine, "commit", commit)
    print(f"  per 「我的」 update, all in: {counted['statements'] / n:.1f} SQL statements, "
          f"{counted['commits'] / n:.2f} transactions (handling, recording the sends in batches, "
          f"heartbeat-free here; start-up reads included)")
    assert all(m.text.startswith("志愿者") for m in fake.all_sent())
    await channel.stop()
    stop.set()
    relay.kick()
    await relay_task
    # One more 「我的」, alone (channel, relay and courier quiet), from a person who has sent one:
    # the handling transaction itself.
    await relay.relay.courier.drain(10)
    counted.update(statements=0, commits=0)
    event.listen(db.sync_engine, "before_cursor_execute", statement)
    event.listen(db.sync_engine, "commit", commit)
    await engine.receive(InboundMessage(platform="telegram", user_id=str(FIRST_USER), chat_id=str(FIRST_USER),
                                        text="我的", message_id="bench-again", user_name="用户0"))
    event.remove(db.sync_engine, "before_cursor_execute", statement)
    event.remove(db.sync_engine, "commit", commit)
    print(f"  one more 「我的」 (handling only): {counted['statements']} SQL statements in "
          f"{counted['commits']} transaction(s) (aim ≤ 6 in 1)")
    await fake.stop()
    await db.dispose()
    return n / elapsed


async def broadcast(n: int, rate: float, url: str | None, tmp: Path) -> tuple[float, int, int]:
    """A broadcast to n distinct chats under Telegram's real limits: (messages/s, 429s, delivered)."""
    db = await _database(url, tmp / "broadcast.db")
    sessions = session_factory(db)
    fake = _fake(n, fake_bot_api.FakeLimits())  # 30/s per bot, 1/s per chat, 20/min per group
    await fake.start()
    now = datetime.now(timezone.utc)
    async with sessions() as s:
        s.add_all(OutboxMessage(platform="telegram", address=str(FIRST_USER + i), recipient_label=f"用户{i}",
                                text=f"【道德活动日】本月5日上午9点，村文化广场包饺子，欢迎参加！（{i}）", created_at=now)
                  for i in range(n))
        await s.commit()
    engine = Engine(sessions=sessions, clock=SystemClock(), dispatcher=build_dispatcher(), tz=ZoneInfo("Asia/Shanghai"))
    config = TelegramConfig(token=TOKEN, api_url=fake.base_url, limits=TelegramLimits(per_second=rate))
    channel = TelegramChannel(config, engine=engine, limiter=MemoryRateLimiter())
    relay = RelayLoop(Relay(sessions, engine.clock, [channel]), interval=0.05)
    stop = asyncio.Event()
    start = time.perf_counter()
    relay_task = asyncio.create_task(relay.run(stop))
    await _wait_for(lambda: fake.sent_count >= n, n / rate * 3 + 60)
    elapsed = time.perf_counter() - start
    stop.set()
    relay.kick()
    await relay_task
    await channel.bot.shutdown()
    await fake.stop()
    await db.dispose()
    return n / elapsed, fake.stats["429"], len(fake.all_sent())


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=1000, help="updates for the throughput figure")
    parser.add_argument("--broadcast", type=int, default=5000, help="messages in the broadcast (0 skips it)")
    parser.add_argument("--rate", type=float, default=25.0, help="configured global send rate (messages/s)")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary directory")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    where = args.database_url.split("://")[0] if args.database_url else "sqlite (temp file)"
    print(f"database: {where}")
    with tempfile.TemporaryDirectory() as tmp:
        echo = await bare_echo(args.updates)
        print(f"bare python-telegram-bot echo : {echo:8.1f} updates/s ({args.updates} updates)")
        ours = await whole_stack(args.updates, args.database_url, Path(tmp))
        print(f"xinfeng whole stack           : {ours:8.1f} updates/s (store, handle 「我的」, outbox, relay, send)")
        print(f"ratio                         : {ours / echo:8.2f}  (aim ≥ 0.5)")
        if args.broadcast:
            rate, throttled, delivered = await broadcast(args.broadcast, args.rate, args.database_url, Path(tmp))
            print(f"broadcast of {args.broadcast} to distinct chats: {rate:.2f} msg/s against a limit of "
                  f"{args.rate:g}/s = {rate / args.rate:.1%} (aim ≥ 90%); 429s received: {throttled}; "
                  f"delivered: {delivered}")


if __name__ == "__main__":
    asyncio.run(main())
