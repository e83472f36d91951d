"""Tests for handlers.language.textnorm: the full-width / Chinese-numeral tolerant command helpers."""

from __future__ import annotations

import pytest

from handlers.language.textnorm import (
    normalize,
    parse_hours,
    parse_number,
    parse_rating,
    parse_ref,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("＃１２", "#12"),
        ("接单　＃１２", "接单 #12"),  # full-width space
        ("  完成   #3 \n 2小时 ", "完成 #3 2小时"),
        ("\u200b点单\ufeff", "点单"),  # invisible characters from pasted text
        ("ＡＢＣ１２３", "ABC123"),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("2", 2.0), ("2.5", 2.5), ("２", 2.0), ("二", 2.0), ("两", 2.0), ("十", 10.0),
        ("十二", 12.0), ("二十五", 25.0), ("一百", 100.0), ("一百零五", 105.0),
        ("三万五千", 35000.0), ("半", 0.5), ("一个半", 1.5), ("两个半", 2.5), ("1个半", 1.5),
        ("两个", 2.0), ("一点五", 1.5), ("二零二六", 2026.0),
    ],
)
def test_parse_number(token: str, expected: float) -> None:
    assert parse_number(token) == expected


@pytest.mark.parametrize("token", ["", "abc", "二三十", "几个", "2x", "#2"])
def test_parse_number_rejects(token: str) -> None:
    assert parse_number(token) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#12", 12), ("＃12", 12), ("＃１２", 12), ("# 12", 12), ("12号", 12), ("第12号", 12),
        ("12", 12), ("十二号", 12), ("#十二", 12), ("第十二号", 12),
        ("完成 #12 2小时", 12),  # a marked reference inside a longer command
        ("报名 3号活动", 3),
    ],
)
def test_parse_ref(text: str, expected: int) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize("text", ["", "#", "#0", "#1.5", "abc", "完成 2小时", "接单"])
def test_parse_ref_rejects(text: str) -> None:
    assert parse_ref(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2小时", 2.0), ("2 小时", 2.0), ("二小时", 2.0), ("两个小时", 2.0), ("两小时", 2.0),
        ("1.5h", 1.5), ("1.5H", 1.5), ("2hrs", 2.0), ("半小时", 0.5), ("半个小时", 0.5),
        ("一个半小时", 1.5), ("两个半小时", 2.5), ("90分钟", 1.5), ("45min", 0.75),
        ("1小时30分钟", 1.5), ("一个小时三十分", 1.5), ("2", 2.0), ("二", 2.0), ("３小时", 3.0),
        ("3个钟头", 3.0), ("20分钟", 0.33),
    ],
)
def test_parse_hours(text: str, expected: float) -> None:
    assert parse_hours(text) == expected


@pytest.mark.parametrize("text", ["", "0", "0小时", "很久", "小时", "两天"])
def test_parse_hours_rejects(text: str) -> None:
    assert parse_hours(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", 5), ("五", 5), ("5星", 5), ("五星", 5), ("5分", 5), ("1", 1), ("３", 3),
        ("4 星", 4), ("两星", 2), ("★★★★★", 5), ("★★★☆☆", 3),
    ],
)
def test_parse_rating(text: str, expected: int) -> None:
    assert parse_rating(text) == expected


@pytest.mark.parametrize("text", ["", "0", "6", "十", "4.5", "很好", "五星好评"])
def test_parse_rating_rejects(text: str) -> None:
    assert parse_rating(text) is None
