"""活动解析: a captain's one-line activity ("活动 周六上午9点 村文化广场 包饺子 限20人") → a draft.

Pieces are taken out of the sentence one kind at a time — explicit tags ("项目:周末文化广场",
"地点:…", "队伍:…"), the capacity ("限20人"), the length ("2小时"), then the time (the same
grammar the request parser reads, `handlers.language.timeparse`: "下午两点半到四点半", and a
name between the day and the hours, "这周六道德活动日 上午9点到11点") — and what is left is the
place and the title. The captain confirms the draft, so each extractor prefers "not found" to a
wrong guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from handlers.language.festivals import festival_when
from handlers.language.textnorm import normalize, parse_hours, parse_number
from handlers.language.timeparse import find_times, shifted
from storage.activities.attendance import parse_location

__all__ = ["DEFAULT_LENGTH", "ParsedActivity", "parse_activity"]

DEFAULT_LENGTH = timedelta(hours=2)
MAX_LENGTH = timedelta(hours=12)
MAX_CAPACITY = 10000
MAX_TEXT = 1000

_NUM = "0-9零〇一二两三四五六七八九十百千"
_TAG = re.compile(r"(项目|地点|队伍|标题|内容|位置|坐标|范围)\s*:\s*(\S+)")
_UNLIMITED = re.compile(r"不限人数|人数不限|不限名额|名额不限")
_CAPACITY = re.compile(rf"(?:限额|限|名额|招募|需要|需|共)?\s*([{_NUM}]+)\s*(?:个|位)?\s*(?:人|名)(?:以内|左右)?")
_LENGTH = re.compile(rf"(?:时长|共|约|大约|持续)?\s*([{_NUM}.半个]+\s*(?:小时|钟头|分钟))")
_RADIUS = re.compile(rf"([{_NUM}.]+)\s*(米|m|公里|km)", re.IGNORECASE)
_FILLER = {"在", "于", "举行", "举办", "开展", "组织", "活动", "进行"}
_PUNCT = "，,。.、；;！!？?()（）"
# Endings that make a token a place; the strong ones split a run-on "村文化广场包饺子" too.
_STRONG_PLACES = (
    "文化广场", "广场", "村委会", "居委会", "活动室", "活动中心", "文化中心", "服务中心", "书屋", "礼堂",
    "大院", "公园", "敬老院", "养老院", "卫生院", "卫生室", "会议室", "文化站", "实践站", "实践所", "讲堂",
    "小学", "中学", "学校", "体育场", "文化馆", "图书馆", "大集",
)
_PLACE_ENDINGS = _STRONG_PLACES + ("村", "屯", "社区", "街道", "镇", "乡", "中心", "站", "馆", "室", "堂", "院", "场", "园", "校")


@dataclass(frozen=True)
class ParsedActivity:
    """A draft activity; every field may be missing, and `when_vague` means "周六上午" with no clock time."""

    text: str
    starts_at: datetime | None = None
    length: timedelta = DEFAULT_LENGTH
    length_given: bool = False
    when_vague: bool = False
    when_past: bool = False
    title: str | None = None
    place: str | None = None
    capacity: int | None = None
    project: str | None = None
    team: str | None = None
    location: tuple[float, float] | None = None
    radius_m: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ends_at(self) -> datetime | None:
        """The start plus the length."""
        return None if self.starts_at is None else self.starts_at + self.length


def _blank(text: str, start: int, end: int) -> str:
    """Blank out a span (keeping offsets), so later extractors do not read it again."""
    return text[:start] + " " * (end - start) + text[end:]


def _int(token: str) -> int | None:
    value = parse_number(token)
    if value is None or value != int(value) or value < 1:
        return None
    return int(value)


def _radius(value: str) -> int | None:
    m = _RADIUS.fullmatch(value)
    if not m:
        number = parse_number(value)
        return int(number) if number and number > 0 else None
    number = parse_number(m.group(1))
    if not number or number <= 0:
        return None
    return int(number * 1000) if m.group(2).lower() in ("公里", "km") else int(number)


def _take_time(text: str, now: datetime) -> tuple[str, dict[str, object]]:
    """Find the first time the text names: its window, its precision, and the text without it.

    A weekday alone ("周六上午9点") is the next one not yet over; a time on a named day that is
    over ("今天下午3点" said at 17:00, "昨天") stays where it is, and the draft says it is past.
    """
    for mention in find_times(text, now):
        if mention.negated:
            continue
        if mention.rolls and mention.start <= now:
            # "周六上午9点" said on Saturday at 10 (or at 9): an activity cannot start in the past.
            mention = shifted(mention, 7)
        for start, end in mention.spans:
            text = _blank(text, start, end)
        return text, {"span": (mention.start, mention.end), "precision": mention.precision}
    festival = festival_when(text, now)
    return text, ({"span": festival, "precision": "day"} if festival else {})


def _split_run_on(token: str) -> tuple[str | None, str]:
    """"在村文化广场包饺子" → ("村文化广场", "包饺子"): split after the first strong place ending."""
    body = token.removeprefix("在")
    cut = None
    for ending in _STRONG_PLACES:
        i = body.find(ending)
        if i >= 0 and (cut is None or i + len(ending) < cut):
            cut = i + len(ending)
    # A bare "广场" is no named place ("广场舞" is a dance), and "…广场" alone needs no split.
    if cut is None or cut < 3 or cut == len(body):
        return None, token
    return body[:cut], body[cut:]


def parse_activity(text: str, now: datetime) -> ParsedActivity:
    """Parse the words after "活动" into a draft; times are relative to aware `now`."""
    raw = normalize(text)[:MAX_TEXT]  # a pasted essay is read as far as any activity line goes
    work = raw
    tags: dict[str, str] = {}
    for m in _TAG.finditer(raw):
        tags.setdefault(m.group(1), m.group(2))
        work = _blank(work, m.start(), m.end())

    capacity: int | None = None
    if m := _UNLIMITED.search(work):
        work = _blank(work, m.start(), m.end())
    elif m := _CAPACITY.search(work):
        capacity = _int(m.group(1))
        work = _blank(work, m.start(), m.end())
    problems: list[str] = []
    if capacity is not None and capacity > MAX_CAPACITY:
        problems.append(f"人数 {capacity} 太多了")
        capacity = None

    length, length_given = DEFAULT_LENGTH, False
    if m := _LENGTH.search(work):
        hours = parse_hours(m.group(1).replace(" ", ""))
        if hours is not None:
            length, length_given = timedelta(hours=hours), True
            work = _blank(work, m.start(), m.end())

    work, when = _take_time(work, now)
    starts_at = None
    vague = past = False
    if "span" in when:
        start, end = when["span"]  # type: ignore[misc]
        starts_at = start
        if when["precision"] == "clock_range":
            if not length_given and timedelta(0) < end - start <= MAX_LENGTH:
                length = end - start
        elif when["precision"] != "clock":
            vague = True  # "周六" or "周六上午": no clock time to start at
        if starts_at is not None and starts_at <= now:
            past = True
    if length <= timedelta(0) or length > MAX_LENGTH:
        problems.append("活动时长要在 12 小时以内")
        length = DEFAULT_LENGTH

    tokens = [t.strip(_PUNCT) for t in work.split()]
    tokens = [t for t in tokens if t and t not in _FILLER]
    place = tags.get("地点")
    title = tags.get("标题") or tags.get("内容")
    rest: list[str] = []
    for token in tokens:
        if place is None:
            if token.endswith(_PLACE_ENDINGS) and len(token.removeprefix("在")) >= 2:
                place = token.removeprefix("在")
                continue
            found, remainder = _split_run_on(token)
            if found:
                place = found
                if remainder:
                    rest.append(remainder)
                continue
        rest.append(token.removeprefix("在") if place is None and token.startswith("在") else token)
    if title is None:
        title = " ".join(rest).strip() or None
    elif rest and place is None:
        place = " ".join(rest)

    return ParsedActivity(
        text=raw,
        starts_at=starts_at,
        length=length,
        length_given=length_given,
        when_vague=vague,
        when_past=past,
        title=title[:200] if title else None,
        place=place[:200] if place else None,
        capacity=capacity,
        project=tags.get("项目"),
        team=tags.get("队伍"),
        location=parse_location(tags.get("位置") or tags.get("坐标") or ""),
        radius_m=_radius(tags["范围"]) if "范围" in tags else None,
        problems=problems,
    )
