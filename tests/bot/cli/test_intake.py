"""`xinfeng intake import|retrain|report` and `xinfeng parse --now`: the intake's classifier from the command line."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "handlers" / "language" / "data" / "villager_messages.csv"


def _run(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XINFENG_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    env.pop("XINFENG_REDIS_URL", None)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=180)


def test_import_retrain_report_and_parse_with_the_learned_model(tmp_path: Path) -> None:
    empty = _run(tmp_path, "intake", "retrain")
    assert empty.returncode == 0, empty.stderr
    assert "还没有样本" in empty.stdout

    examples = tmp_path / "examples.csv"
    with CORPUS.open(encoding="utf-8") as src, examples.open("w", encoding="utf-8", newline="") as dst:
        out = csv.writer(dst)
        out.writerow(["text", "category"])
        out.writerows([r["text"], r["category"]] for r in csv.DictReader(src) if r["kind"] == "request")
    imported = _run(tmp_path, "intake", "import", str(examples))
    assert imported.returncode == 0, imported.stderr
    assert "已导入 346 条样本" in imported.stdout

    trained = _run(tmp_path, "intake", "retrain")
    assert trained.returncode == 0, trained.stderr
    assert "交叉验证（5 折，346 条）：只用词表" in trained.stdout
    assert "学到的词" in trained.stdout and "已保存模型 #1" in trained.stdout

    report = _run(tmp_path, "intake", "report")
    assert report.returncode == 0, report.stderr
    assert "样本：346 条（imported 346）" in report.stdout and "在用的模型：#1" in report.stdout

    parsed = _run(tmp_path, "parse", "--learned", "--now", "2026-11-28T10:00:00+08:00", stdin="俺家鸡瘟了\n")
    assert parsed.returncode == 0, parsed.stderr
    assert json.loads(parsed.stdout)["category"] == "农业技术"


def test_import_refuses_a_file_with_an_unknown_category(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,category\n俺家鸡瘟了,农业技术\n想吃饺子,美食\n", encoding="utf-8")
    result = _run(tmp_path, "intake", "import", str(bad))
    assert result.returncode == 1 and "bad.csv:3:" in result.stderr and "Traceback" not in result.stderr


def test_parse_reads_times_against_a_fixed_now(tmp_path: Path) -> None:
    lines = "今天晚上八点能来个人帮着看看暖气不\n不用了\n干完了 前后弄了俩小时\n"
    result = _run(tmp_path, "parse", "--now", "2026-11-28T21:58:00+08:00", stdin=lines)
    assert result.returncode == 0, result.stderr
    request, small, update = (json.loads(line) for line in result.stdout.splitlines())
    assert set(request) >= {"kind", "category", "confidence", "alternatives", "people", "when", "when_past"}
    assert request["when"][0] == "2026-11-28T20:00:00+08:00" and request["when_past"] is True
    assert request["when_next"][0] == "2026-11-29T20:00:00+08:00"
    assert (small["kind"], small["action"]) == ("small_talk", "no")
    assert (update["kind"], update["action"], update["hours"]) == ("task_update", "complete", 2.0)
    assert not (tmp_path / "cli.db").exists()  # without --learned no database is touched
    bad = _run(tmp_path, "parse", "--now", "明天")
    assert bad.returncode == 2 and "时间格式不对" in bad.stderr
