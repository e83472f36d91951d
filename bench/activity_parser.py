"""Benchmark: how fast a captain's activity sentence is parsed, against the request parser.

Run by hand: `.venv/bin/python bench/activity_parser.py [ROUNDS]`. Prints sentences per second
for `parse_activity` and, in the same run on the same sentences, for `parse_request` (the
villager-request parser it shares jionlp with), and the ratio between them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.language.activity_parser import parse_activity
from handlers.language.request_parser import parse_request, warm_up

SENTENCES = [
    "周六上午9点 村文化广场 包饺子 限20人",
    "周六上午九点在村文化广场包饺子，限二十人",
    "明天下午3点到5点半 蓬莱社区 义诊",
    "12月5日上午9点 道德讲堂 德耀北票宣讲 项目:德耀北票 限50人",
    "下周三晚上7点半 广场舞 两个半小时",
    "周日早上8点 地点:东台吉村农家书屋 读书会 不限人数",
    "11月30日14:00 蓬莱社区活动室 剪纸 限15人 3小时",
    "后天上午10点 北山村村委会 反诈宣传",
]


def _rate(fn: Callable[[str], object], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for s in SENTENCES:
            fn(s)
    return rounds * len(SENTENCES) / (time.perf_counter() - start)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    warm_up()
    now = datetime(2026, 11, 25, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    activity = _rate(lambda s: parse_activity(s, now), rounds)
    request = _rate(lambda s: parse_request(s, now), rounds)
    print(f"sentences: {len(SENTENCES)} × {rounds} rounds")
    print(f"parse_activity: {activity:8.1f} sentences/s ({1000 / activity:.2f} ms each)")
    print(f"parse_request:  {request:8.1f} sentences/s (baseline)")
    print(f"ratio activity/request: {activity / request:.3f}")


if __name__ == "__main__":
    main()
