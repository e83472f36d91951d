"""Not every message is an order: small talk, a volunteer's task update, a correction of a draft."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from handlers.language.request_parser import parse_request

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=BEIJING)


@pytest.mark.parametrize(("text", "action"), [
    ("不用了", "no"), ("算了", "no"), ("算了 不弄了", "no"), ("谢谢", "thanks"), ("太感谢你们了", "thanks"),
    ("好的", "yes"), ("行", "yes"), ("嗯嗯 知道了", "yes"), ("您好", "greeting"), ("在吗", "greeting"),
    ("这两天咋这么冷", "chat"), ("你们下班了没", "chat"), ("🙏", "thanks"), ("😂😂", "chat"), ("", "chat"),
])
def test_small_talk(text: str, action: str) -> None:
    p = parse_request(text, NOW)
    assert (p.kind, p.action) == ("small_talk", action)


@pytest.mark.parametrize(("text", "action"), [
    ("干完了", "complete"), ("活都弄完了 老太太挺满意", "complete"), ("#57 完成 用了一个半小时", "complete"),
    ("俺明天去不了了", "release"), ("那个活谁能替俺一下", "release"), ("到地方了", "arrived"),
    ("在路上了 马上到", "on_way"), ("车坏道上了 得晚点到", "delay"), ("这单俺接了", "accept"),
    ("一个人整不了 得再来一个", "help"), ("敲半天门没人开", "report"), ("我也报名", "signup"), ("算俺一个", "signup"),
])
def test_task_updates(text: str, action: str) -> None:
    p = parse_request(text, NOW)
    assert (p.kind, p.action) == ("task_update", action)


def test_a_completion_carries_its_task_and_hours() -> None:
    p = parse_request("#57 完成了 前后弄了俩小时", NOW)
    assert (p.task_ref, p.hours) == (57, 2.0)
    assert parse_request("完事了 干了三个半小时", NOW).hours == 3.5


@pytest.mark.parametrize(("text", "field", "value"), [
    ("不对 是礼拜一下午", "when", "2026-11-30T13:00:00+08:00"),
    ("电话写错了 是13944445555", "phone", "13944445555"),
    ("不是李家屯 是王家屯", "place", "王家屯"),
    ("不是5号楼 是7号楼3单元", "address", "7号楼3单元"),
    ("得要四个人 俩人不够", "people", 4),
    ("不是通下水道 是修马桶", "what", "修马桶"),
])
def test_corrections_name_the_field_and_its_new_value(text: str, field: str, value: object) -> None:
    p = parse_request(text, NOW)
    assert p.kind == "correction"
    got = p.corrections[field][0] if field == "when" else p.corrections[field]
    assert got == value


def test_requests_that_sound_like_other_kinds_stay_requests() -> None:
    for text in ["谢谢你们 能不能再派个人来帮俺家修修炉子", "俺腿脚不利索 想找人明天下午帮俺买点菜",
                 "孩子出去滑冰到现在没回家 到处都找不着", "水管修好了又漏了 谁来给看看", "明天冷 想找人帮着把菜窖封上"]:
        assert parse_request(text, NOW).kind == "request", text
