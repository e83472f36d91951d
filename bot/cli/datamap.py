"""`xinfeng export …`, `xinfeng stats rebuild|check|fold` and `xinfeng dashboard`: the data map by hand.

`stats rebuild` installs the aggregate triggers and recounts everything (after a bulk load, or
on a database migrated before the triggers existed); `stats check` compares what the triggers
maintain with a recount and prints the differences; `dashboard` serves only the web dashboard
(for a console-only setup, where `xinfeng run` opens the chat instead of the HTTP server).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.settings import Settings

COMMANDS = ("export", "stats", "dashboard")


def add_commands(sub: Any) -> None:
    """Register the data-map sub-commands on the main parser."""
    from bot.cli.export import add_arguments

    add_arguments(sub.add_parser("export", help="export hours, tasks, volunteers or activities as CSV/XLSX"))
    stats = sub.add_parser("stats", help="the data map's maintained aggregates")
    stats.add_argument("action", choices=("rebuild", "check", "fold"))
    sub.add_parser("dashboard", help="serve the web dashboard only (at XINFENG_HTTP_HOST:XINFENG_HTTP_PORT)")


async def run_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run one data-map sub-command."""
    if args.command == "export":
        from bot.cli.export import run_export

        return await run_export(settings, args)
    from bot.runtime import build_runtime, migrate

    await migrate(settings)
    rt = await build_runtime(settings)
    try:
        if args.command == "stats":
            return await _stats(rt, args.action)
        return await _dashboard(settings, rt)
    finally:
        await rt.close()


async def _stats(rt: Any, action: str) -> int:
    from storage.datamap.recount import fold_deltas, install_aggregates, maintained, recount

    async with rt.sessions() as session:
        if action == "rebuild":
            await install_aggregates(session)
            await session.commit()
            print("已重建数据地图的统计（触发器已安装，数据已重新统计）。")
            return 0
        if action == "fold":
            folded = await fold_deltas(session)
            await session.commit()
            print(f"已合并 {folded} 条待合并的增量。")
            return 0
        got, want = await maintained(session), await recount(session)
    keys = set(got.counters) | set(want.counters)
    diff = sorted(k for k in keys if got.counters.get(k) != want.counters.get(k))
    for key in diff[:20]:
        print(f"{key}: 维护值 {got.counters.get(key)}，重新统计 {want.counters.get(key)}", file=sys.stderr)
    same = not diff and got.closure == want.closure and got.last_active == want.last_active
    print("统计与重新统计一致。" if same else f"有 {len(diff)} 项不一致：请运行 xinfeng stats rebuild。")
    return 0 if same else 1


async def _dashboard(settings: Settings, rt: Any) -> int:
    import uvicorn

    from bot.dashboard import dashboard_routes
    from bot.web import build_app

    app = build_app(dashboard_routes(rt.sessions, rt.clock, secure_cookie=settings.dashboard_secure_cookie))
    print(f"数据地图后台：{settings.public_base_url}/dashboard（在聊天中发送「后台」获取登录链接）")
    config = uvicorn.Config(app, host=settings.http_host, port=settings.http_port,
                            log_level=settings.log_level.lower(), lifespan="off")
    await uvicorn.Server(config).serve()
    return 0
