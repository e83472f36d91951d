"""The words of time villagers use (时间词), and what each means on its own.

Days (明儿, 后儿个, 大后天, 过两天), weekdays (礼拜三, 下周三, 周末), dates (12月5号, 5号, 月底),
parts of the day (头午, 晌午, 后晌, 傍黑) and clock times (八点半, 20:30, 两点半到四点半) are found
by one regular expression, left to right; `days_of` and `clock_of` say which day(s) and which
hour each names. `handlers.language.timeparse` joins them into mentions.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from handlers.language.textnorm import parse_number

__all__ = [
    "APPOINTMENT_PARTS",
    "CLOCKISH",
    "DAYISH",
    "PART_WINDOWS",
    "PART_WORDS",
    "Days",
    "Tok",
    "clock_of",
    "days_of",
    "number",
    "tokens",
]

_CN = "零〇一二两三四五六七八九十"
_NUM = rf"(?:\d{{1,2}}|[{_CN}]{{1,3}})"
_WD = "一二三四五六日天1234567"
_WEEKDAY_INDEX = {c: i for i, c in enumerate("一二三四五六日")} | {"天": 6} | {str(i + 1): i for i in range(7)}
_PRE = r"下下个?|下个?|这个?|本|上个?"

# Day words: offset from today (a pair is a range of days), and the part of the day some imply.
_REL_DAYS: dict[str, tuple[int, int, str | None]] = {
    **{w: (0, 0, None) for w in ("今天", "今儿个", "今儿", "今个儿", "今个", "今日", "今天个")},
    **{w: (1, 1, None) for w in ("明天", "明儿个", "明儿", "明个儿", "明个", "明日", "明天个")},
    **{w: (2, 2, None) for w in ("后天", "后儿个", "后儿", "后个儿")},
    **{w: (3, 3, None) for w in ("大后天", "大后儿个", "大后儿")},
    "大大后天": (4, 4, None),
    **{w: (-1, -1, None) for w in ("昨天", "昨儿个", "昨儿", "昨个", "昨日", "夜个", "夜儿个")},
    **{w: (-2, -2, None) for w in ("前天", "前儿个")},
    **{w: (1, 2, None) for w in ("明后天", "明后儿", "明后两天")},
    "今明两天": (0, 1, None),
    "今早": (0, 0, "早上"), "今晨": (0, 0, "早上"), "今晚": (0, 0, "晚上"), "今儿晚": (0, 0, "晚上"),
    "明早": (1, 1, "早上"), "明晨": (1, 1, "早上"), "明晚": (1, 1, "晚上"), "昨晚": (-1, -1, "晚上"),
    **{w: (2, 2, None) for w in ("过两天", "过两天儿", "过二天")},
    "过一两天": (1, 2, None),
    "过三天": (3, 3, None),
}

# Parts of the day as (first hour, last hour) windows, and the words people use for each.
PART_WINDOWS: dict[str, tuple[int, int]] = {
    "凌晨": (0, 4), "早上": (6, 9), "上午": (7, 11), "中午": (12, 13), "下午": (13, 17),
    "傍晚": (17, 18), "晚上": (18, 23),
}
PART_WORDS: dict[str, str] = {
    **{w: "凌晨" for w in ("凌晨", "半夜", "后半夜")},
    **{w: "早上" for w in ("大清早", "清早", "一早", "早上", "早晨", "早起", "早晌")},
    **{w: "上午" for w in ("上午", "头午", "头晌", "前晌", "上晌", "前半晌", "上半晌", "早半晌", "上半天", "前半天")},
    **{w: "中午" for w in ("中午", "晌午头", "正晌午", "大晌午", "晌午", "晌火", "中晌")},
    **{w: "下午" for w in ("下午", "后晌", "过晌", "下晌", "过午", "午后", "下半晌", "后半晌", "下半天", "后半天")},
    **{w: "傍晚" for w in ("傍晚", "傍黑儿", "傍黑", "擦黑儿", "擦黑", "黄昏", "天擦黑")},
    **{w: "晚上" for w in ("晚上", "晚间", "黑天", "夜里", "夜间", "晚儿")},
}
# Parts said alone (no day, no clock) that name when to come; "夜里咳嗽", "白天睡觉黑天玩" tell a habit.
APPOINTMENT_PARTS = frozenset(
    ["上午", "头午", "头晌", "前晌", "上晌", "中午", "晌午", "晌午头", "下午", "后晌", "过晌", "下晌", "傍晚", "傍黑", "傍黑儿", "擦黑"]
)
# Parts after which a clock hour below 12 is in the afternoon or evening.
PM_PARTS = ("下午", "傍晚", "晚上")


def _alternation(words: object) -> str:
    """A regex alternation of `words`, longest first so that 明儿个 wins over 明儿."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))  # type: ignore[arg-type]


_TOKENS = re.compile(
    rf"(?P<rel>(?<![最然以之背前落往])(?:{_alternation(_REL_DAYS)}))"
    rf"|(?P<after>(?P<an>{_NUM})个?(?P<au>天|日|礼拜|星期|周)(?:以后|之后|过后|后)(?![晌半]))"
    rf"|(?P<wk>(?P<wk_pre>{_PRE})?(?:星期|礼拜|周)(?P<wk_day>[{_WD}]))"
    rf"|(?P<weekend>(?P<we_pre>{_PRE})?(?:周末|礼拜末|星期末)(?!文化|课堂|班|学校|大集|广场|剧场|夜市|营|活动日))"
    rf"|(?P<week>(?P<w_pre>{_PRE})(?:星期|礼拜|周)(?![围边转到全年岁期]))"
    rf"|(?P<mend>(?:(?P<me_m>{_NUM})月|(?P<me_pre>下个?|这个?|本)月|月)(?:底|末))"
    rf"|(?P<date>(?:(?P<y>\d{{4}})年)?(?P<m>{_NUM})月(?P<md>{_NUM})(?:号|日)?)"
    rf"|(?P<dom>(?P<d>{_NUM})(?:号|日)(?!楼|院|室|门|栋|幢|单元|床|线|车|位|房|铺|机|码|屋|棚|井|桥|窗|柜|箱|子|里|文件|楼))"
    rf"|(?P<part>{_alternation(PART_WORDS)})"
    rf"|(?P<clock>(?P<h>{_NUM})(?:点钟|点|(?<=\d)时)(?![点儿心子名赞火着头燃菜单事货钱滴])"
    rf"(?:(?P<half>半)|(?P<q>一刻|三刻)|(?P<mi>{_NUM})分?)?(?P<mod>多|左右|前后|以后|之后|以前|之前|来钟)?)"
    rf"|(?P<hm>(?<!\d)(?P<h2>\d{{1,2}})[:](?P<m2>\d{{2}})(?!\d))"
    rf"|(?P<bare>(?P<bh>{_NUM})(?=\s*(?:到|至|-|~)\s*{_NUM}\s*(?:点|:)))"
    r"|(?P<sep>到|至|~|-|—|–)"
)
_KINDS = ("rel", "after", "wk", "weekend", "week", "mend", "date", "dom", "part", "clock", "hm", "bare", "sep")
DAYISH = ("rel", "after", "wk", "weekend", "week", "mend", "date", "dom")
CLOCKISH = ("clock", "hm", "bare")
# A house number's street ends right before a day-of-month ("建设街12号" is an address, not the 12th).
_NOT_BEFORE_DAY = tuple("街路道巷弄里号楼院#第组区村屯-")


@dataclass
class Tok:
    kind: str
    start: int
    end: int
    m: re.Match[str]


@dataclass
class Days:
    """A resolved day or run of days, before a part or clock time is laid on it."""

    first: date
    last: date
    anchored: bool  # a particular day was named: never rolled to next week


def number(token: str | None) -> int | None:
    """A whole number from Arabic or Chinese numerals ("12", "十二", "两"); "八九" reads as 8."""
    if not token:
        return None
    if len(token) == 2 and all(c in "一二三四五六七八九" for c in token) and token[0] != token[1]:
        token = token[0]  # "八九点": about eight
    value = parse_number(token)
    return int(value) if value is not None and value == int(value) else None


def tokens(text: str) -> list[Tok]:
    """The time words of `text`, left to right, without day numbers that belong to an address."""
    out = []
    for m in _TOKENS.finditer(text):
        kind = next(k for k in _KINDS if m.group(k) is not None)
        if kind == "dom" and text[:m.start()].rstrip().endswith(_NOT_BEFORE_DAY):
            continue
        out.append(Tok(kind, m.start(), m.end(), m))
    return out


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week_offset(prefix: str | None) -> int:
    """Weeks from this one that a 下/下下/上/这 prefix names."""
    if not prefix:
        return 0
    if prefix.startswith("下下"):
        return 2
    if prefix.startswith("下"):
        return 1
    return -1 if prefix.startswith("上") else 0


def _add_month(day: date, months: int) -> tuple[int, int]:
    year, month = divmod(day.month - 1 + months, 12)
    return day.year + year, month + 1


def days_of(tok: Tok, today: date) -> tuple[Days, str | None] | None:
    """The day(s) a day-ish token names, and the part of the day it implies (今晚 → 晚上)."""
    m = tok.m
    if tok.kind == "rel":
        a, b, part = _REL_DAYS[m.group("rel")]
        return Days(today + timedelta(days=a), today + timedelta(days=b), True), part
    if tok.kind == "after":
        n = number(m.group("an"))
        if n is None:
            return None
        n *= 7 if m.group("au") in ("礼拜", "星期", "周") else 1
        return Days(today + timedelta(days=n), today + timedelta(days=n), True), None
    if tok.kind == "wk":
        wd = _WEEKDAY_INDEX[m.group("wk_day")]
        pre = m.group("wk_pre")
        if pre is None:
            day = today + timedelta(days=(wd - today.weekday()) % 7)
            return Days(day, day, False), None
        day = _monday(today) + timedelta(days=7 * _week_offset(pre) + wd)
        return Days(day, day, True), None
    if tok.kind == "weekend":
        sat = _monday(today) + timedelta(days=7 * _week_offset(m.group("we_pre")) + 5)
        return Days(sat, sat + timedelta(days=1), True), None
    if tok.kind == "week":
        offset = _week_offset(m.group("w_pre"))
        monday = _monday(today) + timedelta(days=7 * offset)
        return Days(max(monday, today) if offset == 0 else monday, monday + timedelta(days=6), True), None
    if tok.kind == "mend":
        if m.group("me_m"):
            month = number(m.group("me_m"))
            if month is None or not 1 <= month <= 12:
                return None
            year = today.year + (1 if month < today.month else 0)
        else:
            year, month = _add_month(today, 1 if (m.group("me_pre") or "").startswith("下") else 0)
        last = date(year, month, calendar.monthrange(year, month)[1])
        return Days(last, last, True), None
    if tok.kind == "date":
        month, day_n = number(m.group("m")), number(m.group("md"))
        year = int(m.group("y")) if m.group("y") else today.year
        if month is None or day_n is None:
            return None
        try:
            day = date(year, month, day_n)
            if not m.group("y") and day < today:
                day = date(year + 1, month, day_n)
        except ValueError:
            return None
        return Days(day, day, True), None
    if tok.kind == "dom":
        day_n = number(m.group("d"))
        if day_n is None or not 1 <= day_n <= 31:
            return None
        year, month = _add_month(today, 0 if day_n >= today.day else 1)
        try:
            day = date(year, month, day_n)
        except ValueError:
            return None
        return Days(day, day, True), None
    return None


def clock_of(tok: Tok, part: str | None) -> tuple[int, int, bool] | None:
    """(hour, minute, strong) of a clock token in the day's part; weak ones ("一点") may be words."""
    m = tok.m
    if tok.kind == "hm":
        hour, minute = int(m.group("h2")), int(m.group("m2"))
        strong = True
    else:
        raw = m.group("h") if tok.kind == "clock" else m.group("bh")
        hour = number(raw)
        if hour is None:
            return None
        minute = 0
        if tok.kind == "clock":
            if m.group("half"):
                minute = 30
            elif m.group("q"):
                minute = 15 if m.group("q") == "一刻" else 45
            elif m.group("mi"):
                minute = number(m.group("mi")) or 0
        # "一点"/"两点" alone are as often "a little" as a time: only with more around them.
        strong = raw.isdigit() or raw not in ("一", "两") or minute > 0 or bool(m.group("mod"))
    if part in PM_PARTS and hour < 12 or part == "中午" and hour <= 2:
        hour += 12
    elif part is None and 1 <= hour <= 6:
        hour += 12  # "两点半" with no part of the day: nobody means half past two at night
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return hour, minute, strong


