"""The `xinfeng` command's non-interactive verbs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _run(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XINFENG_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)


def test_parse_prints_one_json_object_per_line(tmp_path: Path) -> None:
    result = _run(tmp_path, "parse", stdin="我家草莓苗得了炭疽病，明天上午能来杨家村看看吗？电话13812345678\n\n村口的垃圾堆了好几天没人清理\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert set(first) >= {"category", "when", "phone", "place"}
    assert first["category"] == "农业技术" and first["phone"] == "13812345678" and first["place"] == "杨家村"
    assert len(first["when"]) == 2 and "T" in first["when"][0]
    assert second["category"] == "环境整治" and second["when"] is None and second["phone"] is None


def test_db_upgrade_demo_and_grant(tmp_path: Path) -> None:
    assert _run(tmp_path, "db", "upgrade").returncode == 0
    assert (tmp_path / "cli.db").exists()
    demo = _run(tmp_path, "demo")
    assert demo.returncode == 0, demo.stderr
    again = _run(tmp_path, "demo")
    assert again.returncode == 0
    ok = _run(tmp_path, "grant", "13900000002", "admin", "BP-CG-PL")
    assert ok.returncode == 0, ok.stderr
    bad = _run(tmp_path, "grant", "13900000002", "emperor", "BP")
    assert bad.returncode == 1 and bad.stderr.strip()


def test_import_reports_bad_rows_and_exits_nonzero(tmp_path: Path) -> None:
    data = tmp_path / "net"
    data.mkdir()
    (data / "org_units.csv").write_text("code,name,level,parent_code\nX,某县中心,center,\nY,某村站,village,X\n", encoding="utf-8")
    (data / "teams.csv").write_text("code,name,org_code,categories,parent_code,invite_code\n", encoding="utf-8")
    (data / "volunteers.csv").write_text("name,phone,org_code,team_codes,skills,party_member\n", encoding="utf-8")
    result = _run(tmp_path, "import", str(data))
    assert result.returncode == 1
    assert "org_units.csv:3:" in result.stderr
