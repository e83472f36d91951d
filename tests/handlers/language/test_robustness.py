"""Bad input never crashes the parsers: empty, emoji only, 5,000 characters, random characters."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from handlers.language.activity_parser import parse_activity
from handlers.language.lexicon import CATEGORIES
from handlers.language.request_parser import parse_request

NOW = datetime(2026, 11, 28, 21, 58, tzinfo=timezone(timedelta(hours=8)))
_RNG = random.Random(11)

BAD = [
    "", " ", "\n\t", "👍👍", "😀" * 300, "？？？", "\x00\x01\x02", "明" * 5000, "12号" * 1250,
    "俺家水管冻裂了 明天上午来人 " * 200, "".join(chr(_RNG.randint(0x20, 0x9FFF)) for _ in range(5000)),
    "不是" * 2500, "1点到2点到3点" * 400, "#" * 5000, "3号楼2单元" * 500, "13800000000" * 400,
    "礼拜" * 2500, "\u200b" * 100, "ｘ" * 5000,
]


@pytest.mark.parametrize("text", BAD, ids=range(len(BAD)))
def test_bad_input_is_read_without_crashing(text: str) -> None:
    p = parse_request(text, NOW)
    assert p.category in CATEGORIES and p.kind in ("request", "small_talk", "task_update", "correction")
    assert 0 <= p.confidence <= 1 and 0 <= p.people <= 10
    parse_activity(text, NOW)
