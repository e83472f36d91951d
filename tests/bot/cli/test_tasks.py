"""`xinfeng tasks stuck` on the demo county: nothing while every task is in its window, then who has what and why."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from handlers.core.act import Act
from handlers.tasks.ordering import Order, confirm_order
from storage.db import create_engine, session_factory
from storage.models import Person

TZ = ZoneInfo("Asia/Shanghai")
ORDERED = datetime(2026, 12, 1, 9, 0, tzinfo=TZ)


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XINFENG_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    env.pop("XINFENG_REDIS_URL", None)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120, check=False)


async def _order_for(tmp_path: Path, name: str, text: str) -> None:
    """Order as a demo resident, the way a confirmed draft does (no scheduler runs afterwards)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    try:
        async with session_factory(engine)() as session:
            resident = (await session.execute(select(Person).where(Person.name == name))).scalar_one()
            act = Act(session=session, now=ORDERED, tz=TZ, actor=resident)
            await confirm_order(act, Order(resident_id=resident.id, category="其他", description=text))
            await session.commit()
    finally:
        await engine.dispose()


def test_tasks_stuck_lists_what_waits_too_long_and_why(tmp_path: Path) -> None:
    assert _run(tmp_path, "demo").returncode == 0
    # 南山社区 has neither a team nor an admin of its own: 城关街道's 所长 孟凡荣 holds it.
    asyncio.run(_order_for(tmp_path, "张桂兰", "想问问咋申请低保"))
    calm = _run(tmp_path, "tasks", "stuck", "--now", (ORDERED + timedelta(hours=1)).isoformat())
    assert calm.returncode == 0, calm.stderr
    assert "没有卡住的任务" in calm.stdout

    late = (ORDERED + timedelta(days=1)).isoformat()
    stuck = _run(tmp_path, "tasks", "stuck", "--now", late)
    assert stuck.returncode == 1, stuck.stderr
    assert "等待超过时限的任务（1 项）" in stuck.stdout
    assert "#1 南山社区新时代文明实践站【其他】待派单，已等 24 小时；在：城关街道的所长孟凡荣" in stuck.stdout
    assert "等待时限已过" in stuck.stdout and "调度器没有运行" in stuck.stdout

    listed = _run(tmp_path, "jobs", "list", "--from", late, "--days", "1")
    assert listed.returncode == 0 and "任务 #1 卡住：等待时限已过" in listed.stdout

    assert _run(tmp_path, "jobs", "run", "--now", late, "--only", "escalate").returncode == 0
    after = _run(tmp_path, "tasks", "stuck", "--now", late)
    assert after.returncode == 0 and "没有卡住的任务" in after.stdout  # moved to the center, in its window
    bad = _run(tmp_path, "tasks", "stuck", "--now", "明天")
    assert bad.returncode == 2 and "时间格式不对" in bad.stderr and "Traceback" not in bad.stderr
