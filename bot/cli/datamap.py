"""`xinfeng export …`, `xinfeng stats rebuild|check|fold` and `xinfeng dashboard`: the data map by hand.

`stats rebuild` installs the aggregate triggers and recounts everything (after a bulk load, or
on a database migrated before the triggers existed); `stats check` compares what the triggers
maintain with a recount and prints the differences; `dashboard` serves only the web dashboard
(for a console-only setup, where `xinfeng run` opens the chat instead of the HTTP server).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from bot.cli.runtime import with_runtime

if TYPE_CHECKING:
    from bot.runtime import Runtime


def add_commands(sub: Any) -> None:
    """Register `export`, `stats` and `dashboard` on the main parser."""
    from bot.cli.export import add_arguments, run_export

    export = sub.add_parser("export", help="export hours, tasks, volunteers or activities as CSV/XLSX")
    add_arguments(export)
    export.set_defaults(run=run_export)
    stats = sub.add_parser("stats", help="the data map's maintained aggregates")
    stats.add_argument("action", choices=("rebuild", "check", "fold"))
    stats.set_defaults(run=with_runtime(_stats))
    sub.add_parser("dashboard", help="serve the web dashboard only (at XINFENG_HTTP_HOST:XINFENG_HTTP_PORT)"
                   ).set_defaults(run=with_runtime(_dashboard))


async def _stats(rt: Runtime, args: argparse.Namespace) -> int:
    """Rebuild, fold or check the maintained aggregates."""
    from storage.datamap.recount import (
        fold_deltas,
        install_aggregates,
        maintained,
        recount,
    )

    action = args.action
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


async def _dashboard(rt: Runtime, args: argparse.Namespace) -> int:
    """Serve the dashboard alone until stopped."""
    import uvicorn

    from bot.dashboard import dashboard_routes
    from bot.web import build_app

    settings = rt.settings

    app = build_app(dashboard_routes(rt.sessions, rt.clock, secure_cookie=settings.dashboard_secure_cookie))
    print(f"数据地图后台：{settings.public_base_url}/dashboard（在聊天中发送「后台」获取登录链接）")
    config = uvicorn.Config(app, host=settings.http_host, port=settings.http_port,
                            log_level=settings.log_level.lower(), lifespan="off")
    await uvicorn.Server(config).serve()
    return 0
