"""Reading a recurring day as admins write it: 每月5日 8点, 每月第一个周六 上午9点, 每月最后一个星期五 15:30.

Pure text parsing into a `storage.scheduling.recurrence.Recurrence`; a text that is not clearly a rule
gives None, and the caller answers with an example rather than guessing.
"""

from __future__ import annotations

import re

from handlers.language.textnorm import normalize, parse_number
from storage.scheduling.recurrence import Recurrence

__all__ = ["parse_rule", "parse_time_of_day"]

_NUM = r"[0-9零〇一二两三四五六七八九十]+"
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 6,
             "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_NTH = {"一": 1, "1": 1, "二": 2, "2": 2, "两": 2, "三": 3, "3": 3, "四": 4, "4": 4}
_EVERY_MONTH = r"(?:每个?月(?:的)?)?"
_DAY_RULE = re.compile(rf"{_EVERY_MONTH}\s*(?:第)?\s*(?P<day>{_NUM})\s*(?:日|号)(?P<rest>.*)")
_WEEKDAY_RULE = re.compile(
    rf"{_EVERY_MONTH}\s*(?:(?:第\s*(?P<nth>[一二两三四1-4])\s*(?:个|周)?)|(?P<last>最后一?个?|最末一?个?))\s*"
    r"(?:周|星期|礼拜)(?P<wd>[一二三四五六日天末1-7])(?P<rest>.*)"
)
_TIME = re.compile(
    rf"(?P<part>凌晨|早上|早晨|上午|中午|下午|傍晚|晚上)?\s*(?P<h>{_NUM})\s*(?:[:：.]\s*(?P<m>\d{{1,2}})|点|时)"
    rf"\s*(?:(?P<half>半)|(?P<quarter>一刻)|(?P<mz>{_NUM})\s*分?)?"
)


def parse_time_of_day(text: str) -> tuple[int, int] | None:
    """(hour, minute) from "8点", "上午8点半", "下午3点", "20:30", "晚上七点一刻"; None if absent or invalid."""
    s = normalize(text).replace(" ", "")
    if not s:
        return None
    m = _TIME.fullmatch(s)
    if not m:
        return None
    hour_v = parse_number(m.group("h"))
    if hour_v is None or hour_v != int(hour_v):
        return None
    hour = int(hour_v)
    minute = 0
    if m.group("m"):
        minute = int(m.group("m"))
    elif m.group("half"):
        minute = 30
    elif m.group("quarter"):
        minute = 15
    elif m.group("mz"):
        mz = parse_number(m.group("mz"))
        if mz is None or mz != int(mz):
            return None
        minute = int(mz)
    part = m.group("part")
    if part in ("下午", "傍晚", "晚上") and hour < 12:
        hour += 12
    elif part == "中午" and hour < 6:
        hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return hour, minute


def parse_rule(text: str, default_time: tuple[int, int] = (8, 0)) -> Recurrence | None:
    """A monthly rule from "每月5日 8点" or "每月第一个周六 9点"; the time defaults to 08:00."""
    s = normalize(text).replace(" ", "")
    fields: dict[str, int | None]
    if m := _DAY_RULE.fullmatch(s):
        day = parse_number(m.group("day"))
        if day is None or day != int(day) or not 1 <= day <= 31:
            return None
        fields = {"day_of_month": int(day)}
    elif m := _WEEKDAY_RULE.fullmatch(s):
        week = -1 if m.group("last") else _NTH[m.group("nth")]
        fields = {"week_of_month": week, "weekday": _WEEKDAYS[m.group("wd")]}
    else:
        return None
    rest = m.group("rest").lstrip("的,，")
    at = parse_time_of_day(rest) if rest else default_time
    if at is None:
        return None
    try:
        return Recurrence(hour=at[0], minute=at[1], **fields)
    except ValueError:
        return None
