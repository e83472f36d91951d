"""`xinfeng db upgrade`: bring the database schema up to date."""

from __future__ import annotations

import argparse
from typing import Any

from bot.settings import Settings


def add_commands(sub: Any) -> None:
    """Register `db` on the main parser."""
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(run=upgrade)


def upgrade(settings: Settings, args: argparse.Namespace) -> int:
    """Run the migrations (synchronously: Alembic runs its own event loop)."""
    from storage.migrate import upgrade as upgrade_schema

    upgrade_schema(settings.database_url)
    print("数据库已是最新结构。")
    return 0
