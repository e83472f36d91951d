"""The console channel, as a newcomer uses it: `xinfeng chat` with a piped conversation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CONVERSATION = """\
/as 13900000901
我家隔壁的孤寡老人想请人明天上午来帮忙理个发
/press 1
/as 韩冬梅
接单 #1
/as 罗桂英
接单 #1
/as 韩冬梅
完成 #1 两小时
/as 王大娘
评价 #1 5 很满意
我的
/as 韩冬梅
我的
/press 9
/as 新来的张三
注册 杨家
"""


def _chat(tmp_path: Path, text: str) -> str:
    env = {**os.environ, "XINFENG_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"}
    env.pop("XINFENG_REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"], input=text, capture_output=True, text=True,
        env=env, cwd=tmp_path, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


def test_piped_conversation_runs_the_whole_loop_on_the_demo_county(tmp_path: Path) -> None:
    out = _chat(tmp_path, CONVERSATION)
    assert "已载入演示县" in out
    assert "—— 现在您是 王大娘" in out
    assert "[王大娘] 请确认您的需求：" in out and "类别：助老助残" in out
    assert "[王大娘] 已提交！您的任务号是 #1。已派给「蓬莱社区志愿服务队」" in out
    assert "[罗桂英] 📋 新任务 #1【助老助残】" in out
    assert "[罗桂英] 谢谢您的热心！任务 #1 已经有人接了。" in out
    assert "[王大娘] 好消息！志愿者 韩冬梅 接了您的任务 #1" in out
    assert "[王大娘] 谢谢您的评价（★★★★★）" in out
    assert "志愿时长：2 小时（1 次服务）" in out
    assert "没有这个按钮" in out
    assert "[新来的张三] 好的，新来的张三，已登记您在「杨家村新时代文明实践站」" in out
    # The resident is never shown a volunteer's phone.
    for line in out.splitlines():
        if line.startswith("[王大娘]"):
            assert "13900000018" not in line


def test_second_run_keeps_the_data_and_does_not_reload_the_demo(tmp_path: Path) -> None:
    _chat(tmp_path, "/as 王大娘\n想请人讲讲垃圾分类\n1\n1\n")  # unsure: 1 picks the likeliest kind, 1 confirms
    out = _chat(tmp_path, "/as 王大娘\n我的\n")
    assert "已载入演示县" not in out
    assert "#1【环境整治】" in out
