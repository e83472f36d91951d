"""Benchmark: how fast the request parser reads villagers' messages.

Run by hand: `.venv/bin/python bench/request_parser.py [N]`. Prints requests per second for
`parse_request` (category, time, phone, place) and, measured in the same run on the same
sentences, for bare `jieba.lcut` tokenisation — the floor any Chinese parser pays — and the
ratio between them.
"""

from __future__ import annotations

import csv
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import jieba

from handlers.language.request_parser import parse_request, warm_up

ROOT = Path(__file__).resolve().parents[1]


def _sentences() -> list[str]:
    path = ROOT.parent / "shared" / "examples" / "requests.csv"
    if path.exists():
        with path.open(encoding="utf-8") as f:
            return [row["text"] for row in csv.DictReader(f)]
    return ["我家草莓苗得了炭疽病，明天上午能来杨家村看看吗？电话13812345678", "村口的垃圾堆了好几天没人清理"]


def _rate(fn, sentences: list[str], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for s in sentences:
            fn(s)
    return rounds * len(sentences) / (time.perf_counter() - start)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    sentences = _sentences()
    warm_up()
    now = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)
    parser = _rate(lambda s: parse_request(s, now), sentences, rounds)
    baseline = _rate(jieba.lcut, sentences, rounds)
    print(f"sentences: {len(sentences)} × {rounds} rounds")
    print(f"parse_request: {parser:8.1f} requests/s ({1000 / parser:.2f} ms each)")
    print(f"jieba.lcut:    {baseline:8.1f} requests/s (baseline)")
    print(f"ratio parser/baseline: {parser / baseline:.3f}")


if __name__ == "__main__":
    main()
