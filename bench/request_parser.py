"""Benchmark: how fast the request parser reads villagers' messages.

Run by hand: `.venv/bin/python bench/request_parser.py [ROUNDS]`. Times `parse_request` (kind,
ranked category, time, phone, place, address, people, urgency) on every message of the villager
corpus (and the shared examples when they sit beside the repo), and in the same run, on the same
messages, bare `jieba.lcut` — the floor any Chinese parser pays — so that a busy machine shows in
both figures. Prints the median and 90th percentile per message and the ratio; the aim is a
median of at most 2 ms.
"""

from __future__ import annotations

import csv
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jieba

from handlers.language.request_parser import parse_request, warm_up

CORPUS = ROOT / "tests" / "handlers" / "language" / "data" / "villager_messages.csv"
SHARED = ROOT.parent / "shared" / "examples" / "requests.csv"
LIMIT_MS = 2.0


def _sentences() -> list[str]:
    texts = []
    for path in (CORPUS, SHARED):
        if path.exists():
            with path.open(encoding="utf-8") as f:
                texts += [row["text"] for row in csv.DictReader(f)]
    return texts


def _per_message(fn: Callable[[str], object], sentences: list[str], rounds: int) -> list[float]:
    """Milliseconds each call took, every sentence `rounds` times."""
    times = []
    for _ in range(rounds):
        for s in sentences:
            start = time.perf_counter()
            fn(s)
            times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    sentences = _sentences()
    warm_up()
    now = datetime(2026, 11, 28, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    _per_message(lambda s: parse_request(s, now), sentences, 1)  # fill caches, as a running bot has
    parser = _per_message(lambda s: parse_request(s, now), sentences, rounds)
    baseline = _per_message(jieba.lcut, sentences, rounds)

    def p90(xs: list[float]) -> float:
        return statistics.quantiles(xs, n=10)[-1]

    med, base = statistics.median(parser), statistics.median(baseline)
    print(f"messages: {len(sentences)} × {rounds} rounds")
    print(f"parse_request: median {med:.3f} ms, p90 {p90(parser):.3f} ms (aim ≤ {LIMIT_MS} ms median)")
    print(f"jieba.lcut:    median {base:.3f} ms, p90 {p90(baseline):.3f} ms (baseline, same run)")
    print(f"ratio parser/baseline: {med / base:.1f}")


if __name__ == "__main__":
    main()
