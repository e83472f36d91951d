"""`xinfeng schedule` and `xinfeng jobs` on the demo county: the moral day seeded, sent once, never twice."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XINFENG_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    env.pop("XINFENG_REDIS_URL", None)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)


def test_demo_seeds_the_moral_day_and_jobs_run_sends_it_once(tmp_path: Path) -> None:
    demo = _run(tmp_path, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "已设置：北票市新时代文明实践中心 道德活动日 每月5日 08:00" in demo.stdout
    assert "已设置" not in _run(tmp_path, "demo").stdout  # an existing rule is left alone

    listed = _run(tmp_path, "jobs", "list", "--from", "2026-12-01T00:00:00+08:00", "--days", "10")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"2026-12-05 08:00\s+moral_day\s+北票市新时代文明实践中心", listed.stdout)

    first = _run(tmp_path, "jobs", "run", "--now", "2026-12-05T08:00:00+08:00", "--only", "moral_day")
    assert first.returncode == 0, first.stderr
    sent = int(re.search(r"moral_day: (\d+)", first.stdout).group(1))
    assert sent >= 20 and f"入队消息 {sent} 条" in first.stdout
    assert "[韩冬梅 · 未绑定聊天账号] 🌟【道德活动日】12月5日（星期六）是北票市的道德活动日。" in first.stdout
    assert "邹明" not in first.stdout  # 东港 has no moral-day rule
    again = _run(tmp_path, "jobs", "run", "--now", "2026-12-05T08:00:00+08:00", "--only", "moral_day")
    assert again.returncode == 0 and "moral_day: 0" in again.stdout and "入队消息 0 条" in again.stdout


def test_schedule_set_list_clear_and_bad_input(tmp_path: Path) -> None:
    assert _run(tmp_path, "demo").returncode == 0
    ok = _run(tmp_path, "schedule", "set", "BP-CG", "每月第一个周六", "9点")
    assert ok.returncode == 0, ok.stderr
    assert "城关街道新时代文明实践所及下属单位：moral_day = 每月第一个周六 09:00" in ok.stdout
    rules = _run(tmp_path, "schedule", "list").stdout
    assert "BP-CG" in rules and "每月第一个周六 09:00" in rules and "每月5日 08:00" in rules
    assert "已改为跟随上级" in _run(tmp_path, "schedule", "clear", "BP-CG").stdout
    unknown = _run(tmp_path, "schedule", "set", "NOPE", "每月5日")
    assert unknown.returncode == 1 and "没有代码为 NOPE 的单位" in unknown.stderr
    bad = _run(tmp_path, "schedule", "set", "BP", "每月32日")
    assert bad.returncode == 1 and "看不懂规则" in bad.stderr
    when = _run(tmp_path, "jobs", "run", "--now", "下周一")
    assert when.returncode == 2 and "时间格式不对" in when.stderr
    for result in (unknown, bad, when):
        assert "Traceback" not in result.stderr
