"""Memory of one worker after 10,000 updates (run by hand, prints figures).

The whole stack in ONE process, wired as `bench/telegram_throughput.py` wires it (its helpers
are imported, not copied): python-telegram-bot polling the fake Bot API, the channel kit's
lanes, the engine's one transaction per update on a SQLite file, the courier sending replies
right after their commit, the relay. Updates come in rounds from many people — registered
volunteers and strangers, with a mix of texts: 「我的」, 帮助, free-text requests that go through
the parser and open drafts, small talk — so every per-chat and per-person structure sees many keys.

Prints RSS at start (imports done), after a warm-up round (parser loaded, statements cached),
every so many updates and at the end, with the sizes of the structures that hold something per
chat or per message (lanes, messages in hand, the courier's lanes and gates, the sender's
per-chat pacing, the rate limiter's windows, SQLAlchemy's statement cache), so growth can be
told from a plateau. `--trace` also starts tracemalloc after the warm-up and prints the
allocation sites that grew most by the end (slower; its own bookkeeping inflates RSS).

Then, apart: the courier records deliveries in batches of whatever size a few milliseconds
gathered, one statement each (`storage.messaging.outbox.mark_delivered`); SQLAlchemy caches a
compiled statement per shape, so `--batches N` records one batch of every size 1…N and prints
how many statements the engine's cache then holds and what that cost in RSS.

The fake Bot API keeps everything it was sent (its `calls`, `messages`, `history`): the bench
empties those after each round, so what grows is the bot's, not the fake's.

    .venv/bin/python bench/memory.py                   # 10,000 updates, SQLite in a temp dir
    .venv/bin/python bench/memory.py --updates 2000 --trace

Aim (issue 15): RSS < 250 MiB after 10,000 updates.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from telegram_throughput import FIRST_USER, _database, _fake, _wait_for, wire_whole_stack  # noqa: E402

from bot.channels.base import parser_warmed  # noqa: E402
from bot.channels.telegram.channel import TelegramChannel  # noqa: E402
from bot.delivery.relay import RelayLoop  # noqa: E402
from storage.db import session_factory  # noqa: E402
from storage.messaging.outbox import mark_delivered  # noqa: E402
from storage.models import ChannelIdentity, Person  # noqa: E402
from storage.programmes.points import open_accounts  # noqa: E402

from tests.bot.channels.telegram import fake_bot_api  # noqa: E402

# What people write, in turn: each person says the next one of these.
TEXTS = (
    "我的",
    "帮助",
    "明天上午帮我买点菜，送到东台吉村",
    "取消",
    "你好",
    "村口的路灯坏了好几天了，能找人修一下吗",
    "谢谢",
    "积分",
)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _sizes(channel: TelegramChannel, relay: RelayLoop, db: Any) -> str:
    """The per-chat and per-message structures this bench watches, by size."""
    kit, courier, sender = channel.kit, relay.relay.courier, channel.sender
    parts = {
        "kit lanes": len(kit._lanes),
        "kit in hand": len(kit._in_hand),
        "kit sweeps": len(kit._sweeps),
        "courier lanes": len(getattr(courier, "_lanes", {})),
        "courier gates": len(getattr(courier, "_gates", {})),
        "sender chat pacing": len(getattr(sender, "_chat_done", {})),
        "limiter windows": len(getattr(getattr(sender, "_limiter", None), "_windows", {})),
        "stats keys": len(channel.stats),
        "SQL cache": len(getattr(db.sync_engine, "_compiled_cache", None) or {}),
        "tasks": len(asyncio.all_tasks()),
    }
    return ", ".join(f"{k} {v}" for k, v in parts.items())


def _prune_fake(fake: Any) -> None:
    """Forget what the fake Bot API was sent: its memory is not the bot's."""
    fake.calls.clear()
    fake.history.clear()
    fake.messages.clear()
    fake.callback_answers.clear()
    fake._message_ids.clear()
    fake.menus.clear()  # the menus set per chat: the bot keeps its own record in the database


async def delivery_batches(n: int, tmp: Path) -> None:
    """One delivery batch of every size 1…n on an engine of its own: statements cached, RSS grown."""
    db = await _database(None, tmp / "batches.db")
    sessions = session_factory(db)
    now = datetime.now(timezone.utc)
    gc.collect()
    before = rss_mib()
    for size in range(1, n + 1):
        async with sessions() as s:
            await mark_delivered(s, [(i, f"m{i}") for i in range(1, size + 1)], now=now, worker=None)
            await s.commit()
    gc.collect()
    cache = db.sync_engine._compiled_cache
    print(f"delivery batches of every size 1…{n}: {len(cache) if cache is not None else 0} statements cached, "
          f"RSS {rss_mib() - before:+.1f} MiB")
    await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=10_000, help="updates after the warm-up")
    parser.add_argument("--people", type=int, default=2_000, help="registered volunteers writing")
    parser.add_argument("--strangers", type=int, default=500, help="unregistered people writing too")
    parser.add_argument("--round", type=int, default=500, help="updates queued at a time")
    parser.add_argument("--trace", action="store_true", help="tracemalloc from the warm-up on; top growth at the end")
    parser.add_argument("--statements", action="store_true",
                        help="print the SQL statements compiled (and cached) after the warm-up")
    parser.add_argument("--batches", type=int, default=200, help="delivery batches of sizes 1…N (0: skip)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(f"RSS after imports                : {rss_mib():7.1f} MiB")
    with tempfile.TemporaryDirectory() as tmp:
        db = await _database(None, Path(tmp) / "memory.db")
        sessions = session_factory(db)
        now = datetime.now(timezone.utc)
        async with sessions() as s:
            people = [Person(name=f"志愿者{i}", created_at=now, is_volunteer=True) for i in range(args.people)]
            s.add_all(people)
            await s.flush()
            s.add_all(ChannelIdentity(platform="telegram", external_id=str(FIRST_USER + i), person_id=p.id,
                                      last_seen_at=now) for i, p in enumerate(people))
            await open_accounts(s, [p.id for p in people], now)  # as joining a team or the roster import does
            await s.commit()
        writers = args.people + args.strangers
        fake = _fake(writers, fake_bot_api.FakeLimits(enabled=False))
        await fake.start()
        engine, channel, relay = wire_whole_stack(sessions, fake)
        stop = asyncio.Event()
        relay_task = asyncio.create_task(relay.run(stop))
        await parser_warmed()
        await channel.start()
        print(f"RSS at start (parser loaded)     : {rss_mib():7.1f} MiB")

        sent = 0  # updates queued so far
        spoken = [0] * writers  # how many times each person has written

        async def play(n: int) -> None:
            nonlocal sent
            for _ in range(n):
                who = sent % writers
                fake.user_says(FIRST_USER + who, TEXTS[spoken[who] % len(TEXTS)])
                spoken[who] += 1
                sent += 1
            target = sent
            await _wait_for(lambda: channel.stats["handled"] + channel.stats["failed"] >= target
                            and not fake.updates, 600)
            await relay.relay.courier.drain(30)
            _prune_fake(fake)

        start = time.perf_counter()
        await play(min(args.round, 1000))  # the warm-up: every text once, statements cached
        gc.collect()
        warm = rss_mib()
        print(f"RSS after warm-up ({sent} updates) : {warm:7.1f} MiB   [{_sizes(channel, relay, db)}]")
        cache = db.sync_engine._compiled_cache
        cached_at_warm = set(cache) if cache is not None else set()
        if args.trace:
            tracemalloc.start(8)
            before = tracemalloc.take_snapshot()
        base = sent
        marks = {args.updates * k // 4 for k in range(1, 5)}
        while sent - base < args.updates:
            await play(min(args.round, args.updates - (sent - base)))
            if any(sent - base >= m > sent - base - args.round for m in marks):
                print(f"RSS after {sent - base:6d} more updates : {rss_mib():7.1f} MiB   "
                      f"[{_sizes(channel, relay, db)}]  ({time.perf_counter() - start:.0f} s)")
        gc.collect()
        end = rss_mib()
        print(f"RSS after {args.updates} updates (gc'd): {end:7.1f} MiB   growth after warm-up "
              f"{end - warm:+.1f} MiB = {(end - warm) * 1024 / args.updates:.2f} KiB/update   (aim < 250 MiB)")
        print(f"handled {channel.stats['handled']}, failed {channel.stats['failed']}, replies sent "
              f"{fake.sent_count}")
        if args.statements and cache is not None:
            new = [cache[k] for k in list(cache) if k not in cached_at_warm]
            print(f"SQL statements compiled after the warm-up: {len(new)} (cache holds {len(cache)})")
            for compiled in new:
                print("  " + " ".join(str(compiled).split())[:160])
        if args.trace:
            after = tracemalloc.take_snapshot()
            print("tracemalloc: top growth since the warm-up, by allocation site")
            for stat in after.compare_to(before, "traceback")[:15]:
                print(f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks")
                for line in stat.traceback.format(limit=4, most_recent_first=True):
                    print("     " + line)
            tracemalloc.stop()
        await channel.stop()
        stop.set()
        relay.kick()
        await relay_task
        await fake.stop()
        await db.dispose()
        if args.batches:
            await delivery_batches(args.batches, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
