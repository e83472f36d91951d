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
    # Every error once, on standard error, in Chinese; no progress bar when not a terminal.
    assert result.stderr.count("org_units.csv 第3行：层级“village”看不懂") == 1
    assert "org_units.csv 第3行" not in result.stdout and "━" not in result.stderr
    assert "组织 org_units.csv：未导入（1 行有错误）" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("导入有错误：")


def test_import_by_flag_a_county_workbook_and_print_a_summary_line(tmp_path: Path) -> None:
    assert _run(tmp_path, "demo").returncode == 0
    sheet = tmp_path / "北票新志愿者（12月）.csv"
    sheet.write_bytes("北票市志愿者名单\n姓名,手机号码,所属站点,特长\n孙悟,13900000501,蓬莱社区新时代文明实践站,理发\n"
                      .encode("gbk"))
    result = _run(tmp_path, "import", "--volunteers", str(sheet))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"志愿者 {sheet.name}：新增 1，更新 0，未变 0",
        result.stdout.splitlines()[-1],
    ]
    assert result.stdout.splitlines()[-1].startswith("导入完成：1 个名单已导入（新增 1，更新 0，未变 0），用时 ")
    assert _run(tmp_path, "import").returncode == 2


def test_template_then_import(tmp_path: Path) -> None:
    result = _run(tmp_path, "template", "模板")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "模板" / "名单模板.xlsx").is_file() and (tmp_path / "模板" / "csv" / "志愿者.csv").is_file()


def test_import_progress_draws_only_on_a_terminal() -> None:
    import io

    from bot.cli.roster import TerminalProgress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    bar = TerminalProgress(screen)
    bar.start("检查 志愿者.csv", 200)
    bar.update(100)
    bar.finish()
    bar.close()
    assert "检查 志愿者.csv" in screen.getvalue() and "100%" in screen.getvalue()
    pipe = io.StringIO()
    quiet = TerminalProgress(pipe)
    quiet.start("检查 志愿者.csv", 200)
    quiet.update(100)
    quiet.close()
    assert pipe.getvalue() == "" and not quiet.enabled
