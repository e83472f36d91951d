"""`xinfeng parse`: read messages, one per line on stdin, and print what the parser makes of each as JSON.

`--now 2026-11-28T10:00+08:00` fixes the instant times are read against (without it, the
clock's); `--learned` blends in the category model stored in the database, as the bot does
(without it, the lexicon alone, and no database is touched).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from bot.settings import Settings


def add_commands(sub: Any) -> None:
    """Register `parse` on the main parser."""
    p = sub.add_parser("parse", help="parse requests, one per line on stdin, into JSON lines")
    p.add_argument("--now", default="", help="ISO datetime the times are relative to (no offset: region time)")
    p.add_argument("--learned", action="store_true", help="blend in the category model stored in the database")
    p.set_defaults(run=parse)


def parse(settings: Settings, args: argparse.Namespace) -> Any:
    """Print one JSON object per non-empty input line, as each line arrives."""
    try:
        now = _instant(args.now, settings) if args.now else datetime.now(settings.tz)
    except ValueError:
        print(f"时间格式不对：{args.now}（例如 2026-11-28T10:00:00+08:00）", file=sys.stderr)
        return 2
    if getattr(args, "learned", False):
        return _parse_learned(settings, now)
    _parse_lines(now, None)
    return 0


def _instant(text: str, settings: Settings) -> datetime:
    """An ISO datetime; one without an offset is read in the region's time zone."""
    at = datetime.fromisoformat(text.strip())
    return at if at.tzinfo is not None else at.replace(tzinfo=settings.tz)


def _parse_lines(now: datetime, model: Any) -> None:
    """Parse stdin line by line and print each reading."""
    from handlers.language.request_parser import parse_request

    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        parsed = parse_request(text, now, model=model)
        print(json.dumps(parsed.to_json_dict(), ensure_ascii=False), flush=True)


async def _parse_learned(settings: Settings, now: datetime) -> int:
    """Load the stored model through the runtime, then parse with it."""
    from bot.runtime import build_runtime, migrate
    from handlers.language.learning import current_model

    await migrate(settings)
    rt = await build_runtime(settings)
    try:
        async with rt.sessions() as session:
            model = await current_model(session)
    finally:
        await rt.close()
    if model is None:
        print("（数据库里还没有训练好的模型：只用词表）", file=sys.stderr)
    _parse_lines(now, model)
    return 0
