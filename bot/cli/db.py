"""`xinfeng db upgrade`: bring the database schema up to date; `xinfeng db prune`: apply the retention now.

`db prune --dry-run` counts what the retention job (scheduler/jobs/retention.py) would delete —
sent-log, handled inbox and delivered outbox rows older than `XINFENG_RETENTION_DAYS` (or
`--days`) — and deletes nothing; without `--dry-run` it deletes them in batches.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.cli.runtime import with_runtime
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.runtime import Runtime


def add_commands(sub: Any) -> None:
    """Register `db` on the main parser."""
    db = sub.add_parser("db", help="database schema and retention")
    db.add_argument("action", choices=["upgrade", "prune"])
    db.add_argument("--dry-run", action="store_true", help="prune: only count what would be deleted")
    db.add_argument("--days", type=int, default=None, help="prune: rows older than this many days "
                                                           "(default: XINFENG_RETENTION_DAYS, 90)")
    db.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> Any:
    """`upgrade` runs synchronously (Alembic runs its own loop); `prune` works on the runtime."""
    if args.action == "prune":
        return with_runtime(prune)(settings, args)
    return upgrade(settings, args)


def upgrade(settings: Settings, args: argparse.Namespace) -> int:
    """Run the migrations (synchronously: Alembic runs its own event loop)."""
    from storage.migrate import upgrade as upgrade_schema

    upgrade_schema(settings.database_url)
    print("数据库已是最新结构。")
    return 0


async def prune(rt: Runtime, args: argparse.Namespace) -> int:
    """Count (with --dry-run) or delete what is older than the retention age."""
    from datetime import timedelta

    from scheduler.job import JobRun
    from scheduler.jobs.retention import PruneJob
    from storage.messaging.retention import count_prunable

    days = args.days if args.days is not None else rt.settings.retention_days
    if days < 1:
        print("--days 至少为 1。")
        return 2
    before = rt.clock.now() - timedelta(days=days)
    async with rt.sessions() as session:
        found = await count_prunable(session, before=before)
    print(f"早于 {days} 天（{before:%Y-%m-%d %H:%M} UTC 之前）的记录：发送记录 {found.sent_log} 行，"
          f"已处理的收件 {found.inbox} 行，已送达的发件 {found.outbox} 行，共 {found.total} 行。")
    if args.dry_run:
        print("（--dry-run：未删除任何记录）")
        return 0
    went = 0
    while True:  # batch after batch, each its own short transaction
        done = await PruneJob().run(rt.sessions, JobRun(now=rt.clock.now(), tz=rt.engine.tz, retention_days=days))
        went += done
        if not done:
            break
    print(f"已删除 {went} 行。")
    return 0
