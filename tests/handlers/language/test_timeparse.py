"""Times as villagers say them: dialect words, weekdays, ranges, house numbers that are no dates, past times.

These expressions were written for this test, not taken from the corpus: the grammar must read
what it was not shown.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from handlers.language.request_parser import parse_request
from handlers.language.textnorm import normalize
from handlers.language.timeparse import find_times, shifted
from tests.handlers.language.when_format import render

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=BEIJING)  # a Saturday
LATE = datetime(2026, 11, 28, 21, 58, tzinfo=BEIJING)


def first(text: str, now: datetime = NOW) -> str:
    """The first time in `text`, written as the corpus writes `when`."""
    found = [m for m in find_times(normalize(text), now) if not m.negated]
    if not found:
        return ""
    m = found[0]
    return render((m.start, m.end), m.precision in ("clock", "clock_range"))


@pytest.mark.parametrize(("text", "when"), [
    ("礼拜五前晌", "2026-12-04 上午"),
    ("下下礼拜二", "2026-12-08"),
    ("这礼拜天傍黑", "2026-11-29 晚上"),
    ("大后儿个头午", "2026-12-01 上午"),
    ("12月10号晌午", "2026-12-10 中午"),
    ("十二月二十号下午三点", "2026-12-20 15:00"),
    ("后天早起六点半", "2026-11-30 06:30"),
    ("今儿后晌四点", "2026-11-28 16:00"),
    ("明天上午八九点", "2026-11-29 08:00"),
    ("两点到三点", "2026-11-28 14:00"),
    ("周日晚上7:30", "2026-11-29 19:30"),
    ("下个礼拜三", "2026-12-02"),
    ("2026年12月24日", "2026-12-24"),
    ("星期五晚上", "2026-12-04 晚上"),
    ("礼拜二到礼拜四", "2026-12-01..2026-12-03"),
    ("五天后", "2026-12-03"),
    ("一个礼拜以后", "2026-12-05"),
    ("明后儿", "2026-11-29..2026-11-30"),
    ("今天中午12点", "2026-11-28 12:00"),
    ("明天中午1点", "2026-11-29 13:00"),
    ("明天晚上十点半", "2026-11-29 22:30"),
    ("下礼拜", "2026-11-30..2026-12-06"),
    ("这礼拜", "2026-11-28..2026-11-29"),
    ("周六周日", "2026-11-28..2026-11-29"),
    ("周末", "2026-11-28..2026-11-29"),  # Saturday and Sunday, not Sunday alone
    ("下周末", "2026-12-05..2026-12-06"),
    ("1月3号", "2027-01-03"),
    ("过一两天", "2026-11-29..2026-11-30"),
    ("明天凌晨4点", "2026-11-29 04:00"),
    ("明儿个", "2026-11-29"),
    ("后儿", "2026-11-30"),
    ("月底", "2026-11-30"),
    ("礼拜六", "2026-11-28"),  # today is Saturday and not over
    ("礼拜六上午9点", "2026-12-05 09:00"),  # today's 9:00 is over: next Saturday
    ("11月29日（周日）09:00–11:00", "2026-11-29 09:00"),
])
def test_dialect_and_colloquial_times(text: str, when: str) -> None:
    assert first(text) == when


@pytest.mark.parametrize("text", [
    "一礼拜没人拉", "好几天了", "棚里才五六度", "3号楼", "5号院二楼", "光明路18号", "俺们3组", "一点也不疼",
    "有点头疼", "干了两个小时", "还有十来分钟", "每礼拜六来一趟", "周末文化广场", "中央一号文件",
    "二十多个老人", "花了500块钱", "俺妈八十九了", "俺家住8号楼2单元602室", "白天睡觉黑天玩", "夜里咳嗽",
])
def test_numbers_and_words_that_are_no_time(text: str) -> None:
    assert first(text) == ""


def test_address_numbers_are_never_dates() -> None:
    p = parse_request("俺家住3号楼2单元501 灯泡坏了 晚上八点以后家里有人", NOW)
    assert p.when is not None and p.when[0] == NOW.replace(hour=20)
    assert p.address == "3号楼2单元501"
    assert parse_request("建设街12号 明天来", NOW).when[0].day == 29  # type: ignore[index]


def test_a_time_already_over_today_is_reported_not_moved() -> None:
    p = parse_request("今天晚上八点能来个人帮着看看暖气不", LATE)
    assert p.when_past and p.when is not None and p.when[0] == LATE.replace(hour=20, minute=0)
    assert p.when_next is not None and p.when_next[0] == p.when[0] + timedelta(days=1)
    assert parse_request("晚上八点来", LATE).when_past
    fresh = parse_request("今天晚上八点能来个人帮着看看暖气不", NOW)
    assert not fresh.when_past and fresh.when_next is None


def test_a_past_day_is_no_wanted_time() -> None:
    assert parse_request("昨天水管就坏了", NOW).when is None
    assert parse_request("上礼拜让狗咬了 针打完了", NOW).when is None


def test_ranges_with_chinese_numerals() -> None:
    [m] = find_times("后天下午两点半到四点半", NOW)
    assert (m.start.hour, m.start.minute, m.end.hour, m.end.minute) == (14, 30, 16, 30)
    assert m.precision == "clock_range" and m.start.day == 30


def test_a_name_between_the_day_and_the_hours() -> None:
    [m] = find_times("这周六道德活动日 上午9点到11点", NOW - timedelta(days=3))
    assert m.start == datetime(2026, 11, 28, 9, 0, tzinfo=BEIJING)
    assert m.end == datetime(2026, 11, 28, 11, 0, tzinfo=BEIJING)
    assert [normalize("这周六道德活动日 上午9点到11点")[s:e] for s, e in m.spans] == ["这周六", "上午", "9点", "到11点"]


def test_denied_times_are_marked() -> None:
    found = find_times("不是明天 是后天", NOW)
    assert [m.negated for m in found] == [True, False]
    assert found[1].start.day == 30


def test_shifted_moves_a_mention() -> None:
    [m] = find_times("今晚8点", LATE)
    later = shifted(m, 1)
    assert m.past and not later.past and later.start == m.start + timedelta(days=1)


def test_times_follow_the_zone_of_now() -> None:
    utc_now = NOW.astimezone(UTC)
    [m] = find_times("明天上午", utc_now)
    assert m.start.tzinfo == UTC


def test_festivals_and_lunar_dates_are_left_to_jionlp() -> None:
    assert parse_request("元旦想在村里办个联欢会", NOW).when[0].date().isoformat() == "2027-01-01"  # type: ignore[index]
    assert parse_request("腊月二十三小年 想请人来写春联", NOW).when[0].date().isoformat() == "2027-01-30"  # type: ignore[index]
    assert parse_request("过年演节目 缺个会编舞的", NOW).when is None  # "过年" is a season, not a day
