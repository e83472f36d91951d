"""How many volunteers a request asks for."""

from __future__ import annotations

import pytest

from handlers.language.people import MAX_PEOPLE, volunteers_needed


@pytest.mark.parametrize(("text", "people"), [
    ("明天下午需要两个人帮俺家搬个大衣柜", 2), ("来三四个人", 4), ("来几个人帮着抬一下", 3), ("来俩人", 2),
    ("找十来个志愿者", 10), ("需要志愿者二十个", MAX_PEOPLE), ("来一帮人", 3), ("两个人就够", 2),
    ("找几个会唱歌的", 3), ("能来两个技术员不", 2), ("派五六个大学生", 6), ("再来一个师傅", 1),
])
def test_helpers_counted(text: str, people: int) -> None:
    assert volunteers_needed(text) == people


@pytest.mark.parametrize("text", [
    "三四个孩子一块学", "得有四五十口子", "养了五百只鸡", "俺和老伴俩都七十多了", "能坐五六十人", "拉两吨煤",
    "俺一个人在家", "村里好几个老兵想听听", "好几户都想学", "",
])
def test_other_people_and_things_are_not_helpers(text: str) -> None:
    assert volunteers_needed(text) in (None, 1)


def test_denied_counts_do_not_count() -> None:
    assert volunteers_needed("不用俩人 一个就够") == 1
    assert volunteers_needed("得来三个人 俩人不够") == 3
