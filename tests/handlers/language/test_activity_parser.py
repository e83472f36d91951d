"""A captain's one-line activity is parsed into time, place, title, capacity, length and tags."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.language.activity_parser import DEFAULT_LENGTH, parse_activity

TZ = ZoneInfo("Asia/Shanghai")
# A Wednesday afternoon.
NOW = datetime(2026, 11, 25, 17, 0, tzinfo=TZ)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def test_the_example_from_the_issue() -> None:
    p = parse_activity("周六上午9点 村文化广场 包饺子 限20人", NOW)
    assert (p.starts_at, p.ends_at) == (at(28, 9), at(28, 11))
    assert (p.place, p.title, p.capacity) == ("村文化广场", "包饺子", 20)
    assert p.length == DEFAULT_LENGTH and not p.length_given
    assert not (p.when_past or p.when_vague or p.problems)


def test_run_on_text_with_chinese_numerals_and_full_width_forms() -> None:
    p = parse_activity("周六上午九点在村文化广场包饺子，限二十人", NOW)
    assert (p.starts_at, p.place, p.title, p.capacity) == (at(28, 9), "村文化广场", "包饺子", 20)
    q = parse_activity("周六上午９点　村文化广场　包饺子　限２０人", NOW)
    assert (q.starts_at, q.place, q.title, q.capacity) == (at(28, 9), "村文化广场", "包饺子", 20)


@pytest.mark.parametrize("text, hours", [
    ("周六上午9点 广场 讲座 3小时", 3),
    ("周六上午9点 讲座 两个半小时", 2.5),
    ("周六上午9点 讲座 时长90分钟", 1.5),
])
def test_an_explicit_length(text: str, hours: float) -> None:
    p = parse_activity(text, NOW)
    assert p.length == timedelta(hours=hours) and p.length_given
    assert p.title == "讲座"


def test_a_time_span_sets_the_length() -> None:
    p = parse_activity("明天下午3点到5点半 蓬莱社区 义诊", NOW)
    assert (p.starts_at, p.ends_at) == (at(26, 15), at(26, 17, 30))
    assert (p.place, p.title, p.capacity) == ("蓬莱社区", "义诊", None)


def test_tags_name_project_place_team_location_and_radius() -> None:
    p = parse_activity("周六早上8点 项目:周末文化广场 地点:蓬莱社区文化活动室 书法进社区 不限人数 "
                       "队伍:文艺志愿服务队 位置:41.8,120.77 范围:300米", NOW)
    assert p.starts_at == at(28, 8)
    assert (p.project, p.place, p.title, p.team) == ("周末文化广场", "蓬莱社区文化活动室", "书法进社区", "文艺志愿服务队")
    assert p.capacity is None
    assert p.location == (41.8, 120.77) and p.radius_m == 300
    # "周末" inside the project's name is not read as the time.
    assert parse_activity("项目：周末文化广场 周六上午9点 包饺子", NOW).starts_at == at(28, 9)


def test_a_bare_square_is_no_place_of_its_own() -> None:
    p = parse_activity("下周三晚上7点半 广场舞", NOW)
    assert (p.title, p.place) == ("广场舞", None)
    assert p.starts_at == datetime(2026, 12, 2, 19, 30, tzinfo=TZ)


def test_missing_vague_and_past_times_are_flagged_not_guessed() -> None:
    assert parse_activity("村文化广场 包饺子", NOW).starts_at is None
    vague = parse_activity("周六上午 村文化广场 包饺子", NOW)
    assert vague.when_vague
    # Said at 17:00: "今天下午3点" is over; jionlp would move it to tomorrow.
    assert parse_activity("今天下午3点 包饺子", NOW).when_past
    assert parse_activity("昨天上午9点 包饺子", NOW).when_past


def test_a_time_alone_has_no_title() -> None:
    p = parse_activity("周六上午9点 限5人", NOW)
    assert p.title is None and p.capacity == 5


def test_absurd_numbers_are_reported() -> None:
    assert parse_activity("周六上午9点 包饺子 限100000人", NOW).problems
    assert parse_activity("周六上午9点 包饺子 20小时", NOW).problems


def test_ranges_in_chinese_numerals_set_the_length() -> None:
    p = parse_activity("后天下午两点半到四点半 蓬莱社区 义诊", NOW)
    assert (p.starts_at, p.ends_at) == (at(27, 14, 30), at(27, 16, 30))
    assert (p.place, p.title) == ("蓬莱社区", "义诊")


def test_a_name_between_the_day_and_the_hours() -> None:
    p = parse_activity("这周六道德活动日 上午9点到11点 村文化广场", NOW)
    assert (p.starts_at, p.ends_at) == (at(28, 9), at(28, 11))
    assert (p.title, p.place) == ("道德活动日", "村文化广场")
    assert not (p.when_vague or p.when_past)


def test_a_weekday_already_begun_is_next_weeks() -> None:
    saturday_morning = datetime(2026, 11, 28, 8, 30, tzinfo=TZ)
    p = parse_activity("周六上午 村文化广场 包饺子", saturday_morning)
    assert p.starts_at is not None and p.starts_at.date().isoformat() == "2026-12-05" and not p.when_past
