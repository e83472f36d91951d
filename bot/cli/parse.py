"""`xinfeng parse`: read requests, one per line on stdin, and print what the parser makes of each as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from bot.settings import Settings


def add_commands(sub: Any) -> None:
    """Register `parse` on the main parser."""
    sub.add_parser("parse", help="parse requests, one per line on stdin, into JSON lines").set_defaults(run=parse)


def parse(settings: Settings, args: argparse.Namespace) -> int:
    """Print one JSON object per non-empty input line, as each line arrives."""
    from handlers.language.request_parser import parse_request

    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        parsed = parse_request(text, datetime.now(settings.tz))
        print(json.dumps(parsed.to_json_dict(), ensure_ascii=False), flush=True)
    return 0
