"""Category with confidence: a ranked guess, the likeliest alternatives, and when to ask instead."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from handlers.language.categories import CategoryGuess, blend, guess_category
from handlers.language.lexicon import CATEGORIES, OTHER
from handlers.language.request_parser import parse_request

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=timezone(timedelta(hours=8)))


def test_a_clear_request_is_sure() -> None:
    p = parse_request("俺家猪不吃食 耳朵发紫 快找个兽医", NOW)
    assert p.category == "农业技术" and not p.unsure and p.confidence >= 0.75
    assert p.alternatives[0] == "农业技术"
    assert abs(sum(score for _, score in p.ranked) - 1) < 0.01


def test_a_close_second_makes_it_unsure_with_both_offered() -> None:
    p = parse_request("送老人去医院看病 再帮着把老人的低保手续办了", NOW)
    assert p.unsure
    assert len(p.alternatives) >= 2 and OTHER not in p.alternatives


def test_nothing_recognised_is_other_and_unsure() -> None:
    p = parse_request("俺想问个事", NOW)
    assert p.category == OTHER and p.unsure and p.alternatives == []


@pytest.mark.parametrize(("text", "category"), [
    ("想请人帮俺家老头子理个发", "助老助残"), ("院里的雪太厚了 谁来帮着扫扫", "生活帮扶"),
    ("俺家鸡瘟了", "农业技术"), ("俺要告村主任 他占俺地", "法律服务"), ("下礼拜一想找人看看腿", "卫生健康"),
    ("明天早上8点半帮忙送老人去医院", "卫生健康"), ("俺家烟囱倒烟", "生活帮扶"), ("家里没电了", "生活帮扶"),
    ("想找人给孩子补补数学", "助学支教"), ("一个人在家 老伴走了 心里空落落的", "心理辅导"),
    ("女方要二十万彩礼", "移风易俗"), ("包工头欠俺工钱不给", "法律服务"), ("想给老人洗个澡", "助老助残"),
    ("帮着买点菜送到家", "生活帮扶"), ("劈柴 拉煤 没人手", "生活帮扶"), ("羊拉稀 不吃食", "农业技术"),
])
def test_the_needs_of_a_village(text: str, category: str) -> None:
    assert parse_request(text, NOW).category == category


class _Model:
    """A learned model that is sure of one category."""

    def __init__(self, category: str, blend: float) -> None:
        self.category, self.blend = category, blend

    def probabilities(self, text: str) -> dict[str, float]:
        return {c: (0.9 if c == self.category else 0.1 / 11) for c in CATEGORIES}


def test_a_model_decides_where_the_lexicon_is_unsure_but_does_not_overrule_it() -> None:
    unknown = "俺家那头驴尥蹶子"  # no lexicon word
    assert guess_category(unknown, list(unknown)).category == OTHER
    assert guess_category(unknown, list(unknown), _Model("农业技术", 0.5)).category == "农业技术"
    sure = "想请律师打官司"
    assert guess_category(sure, ["想", "请", "律师", "打官司"], _Model("农业技术", 0.5)).category == "法律服务"


def test_a_model_with_no_weight_changes_nothing() -> None:
    text = "想请律师打官司"
    alone = guess_category(text, ["律师"])
    assert guess_category(text, ["律师"], _Model("农业技术", 0.0)) == alone
    assert isinstance(blend(alone, _Model("农业技术", 1).probabilities(text), 0.0), CategoryGuess)
