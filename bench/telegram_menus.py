"""Benchmark: what keeping Telegram's per-person command menus costs with many volunteers on Telegram.

Run by hand: `.venv/bin/python bench/telegram_menus.py [ACCOUNTS] [DATABASE_URL]` (default
100,000 accounts in a fresh SQLite file; a PostgreSQL URL must name an empty database). Every
account is a volunteer's whose menu is already set, the keeper's steady state. Prints, three
times, what `MenuKeeper.reconcile` reads: a quiet round (the roster did not move: one
`roster_mark` query) and a full round (every account, page by page, as after any change),
with the longest page — the longest the worker's event loop is kept busy at once — and the
time to work out every account's menu.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime

from sqlalchemy import insert

from bot.channels.telegram.menus import Menus
from handlers.app import build_dispatcher
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import ChannelIdentity, ChatMenu, Person
from storage.people.menus import menu_holders, orphaned_menus, role_kinds, roster_mark

BATCH = 10_000


async def fill(url: str, accounts: int) -> None:
    """Volunteers with a Telegram account each, every chat already given its menu."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        for start in range(0, accounts, BATCH):
            ids = range(start, min(accounts, start + BATCH))
            await conn.execute(insert(Person), [dict(id=i + 1, name=f"志愿者{i}", phone=f"139{i:08d}",
                                                     is_volunteer=True, created_at=now) for i in ids])
            await conn.execute(insert(ChannelIdentity), [dict(platform="telegram", external_id=str(10**6 + i),
                                                              person_id=i + 1, reachable=True) for i in ids])
            await conn.execute(insert(ChatMenu), [dict(platform="telegram", chat_id=str(10**6 + i), menu="x" * 32,
                                                       set_at=now) for i in ids])
    await engine.dispose()


async def measure(url: str, accounts: int) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    menus = Menus(build_dispatcher())
    for _ in range(3):
        started = time.perf_counter()
        async with sessions() as session:
            await roster_mark(session, "telegram")
        quiet = time.perf_counter() - started
        started, read, longest, after, owed = time.perf_counter(), 0, 0.0, "", 0.0
        async with sessions() as session:
            roles = await role_kinds(session, "telegram")
        while True:
            page_started = time.perf_counter()
            async with sessions() as session:
                holders, cursor = await menu_holders(session, "telegram", roles, after=after)
                if cursor is None:
                    holders += await orphaned_menus(session, "telegram")
            working = time.perf_counter()
            for holder in holders:
                menus.owed(holder.roles)
            owed += time.perf_counter() - working
            longest = max(longest, time.perf_counter() - page_started)
            read += len(holders)
            if cursor is None:
                break
            after = cursor
        full = time.perf_counter() - started
        print(f"{accounts} accounts: quiet round {quiet * 1000:.0f} ms; full round {full:.2f} s "
              f"({read} read, longest page {longest * 1000:.0f} ms, menus worked out in {owed * 1000:.0f} ms)")
    await engine.dispose()


def main() -> None:
    accounts = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/menus.db"
    upgrade(url)
    asyncio.run(fill(url, accounts))
    asyncio.run(measure(url, accounts))


if __name__ == "__main__":
    main()
