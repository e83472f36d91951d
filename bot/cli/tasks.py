"""`xinfeng tasks stuck`: every task that waits longer than its window, who has it and why.

docs/tasks.md: nothing waits silently. The same list shows in `xinfeng jobs list`; this one
prints only the tasks, oldest first, and exits 1 when there are any (for a cron check).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from bot.cli.runtime import with_runtime

if TYPE_CHECKING:
    from bot.runtime import Runtime


def add_commands(sub: Any) -> None:
    """Register the `tasks` sub-commands on the main parser."""
    tasks = sub.add_parser("tasks", help="tasks that need a person: the ones waiting longer than their window")
    tasks_sub = tasks.add_subparsers(dest="tasks_action", required=True)
    stuck = tasks_sub.add_parser("stuck", help="every open task waiting longer than its window, and why")
    stuck.add_argument("--now", default="", help="ISO datetime to judge as of (default: now; no offset: region time)")
    stuck.add_argument("--limit", type=int, default=500)
    stuck.set_defaults(run=with_runtime(_stuck))


async def _stuck(rt: Runtime, args: argparse.Namespace) -> int:
    """Print the stuck tasks; 0 when there are none, 1 when some wait."""
    from bot.cli.jobs import parse_instant
    from handlers.tasks.stuck import stuck_report

    tz = rt.settings.tz
    try:
        now = parse_instant(args.now, tz) if args.now else rt.clock.now()
    except ValueError:
        print(f"时间格式不对：{args.now}（例如 2026-12-05T08:00:00+08:00）", file=sys.stderr)
        return 2
    async with rt.sessions() as session:
        stuck = await stuck_report(session, now, limit=max(1, args.limit))
    if not stuck:
        print(f"{now.astimezone(tz):%Y-%m-%d %H:%M} 没有卡住的任务：每个未接的任务都有人负责，且在等待时限内。")
        return 0
    print(f"{now.astimezone(tz):%Y-%m-%d %H:%M} 等待超过时限的任务（{len(stuck)} 项）：")
    for item in stuck:
        print(f"  {item.line()}")
    return 1
