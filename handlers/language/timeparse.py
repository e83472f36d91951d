"""Reading times as villagers say them (时间): 明儿后晌, 礼拜六, 周末, 过两天, 下午两点半到四点半.

A message is cut into time words — days (明儿, 后儿个, 大后天), weekdays (礼拜三, 下周三, 周末),
dates (12月5号, 5号, 月底), parts of the day (头午, 晌午, 后晌, 傍黑) and clock times (八点半,
20:30, 两点半到四点半) — which are then joined into mentions: a day, its part, its clock time
or range, even with a name between them ("这周六道德活动日 上午9点到11点"). Each mention is
resolved against `now` into a window, and says whether it is already over: the caller decides
what to do with a past time; nothing is moved to tomorrow silently.

Numbers that belong to a house address (3号楼, 501室, 建设街12号) are blanked out first, so they
are never read as dates. Weeks start on Monday: 下周三 is the Wednesday of next calendar week.
A bare weekday ("礼拜六") is the first one whose window is not over yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from handlers.language.addresses import address_spans, mask
from handlers.language.time_words import (
    APPOINTMENT_PARTS,
    CLOCKISH,
    DAYISH,
    PART_WINDOWS,
    PART_WORDS,
    Days,
    Tok,
    clock_of,
    days_of,
    tokens,
)

__all__ = ["PART_WINDOWS", "TimeMention", "find_times", "shifted"]
@dataclass(frozen=True)
class TimeMention:
    """One time a message names, resolved against `now`.

    `precision`: "days" (several days), "day", "part" (头午, 后晌), "clock" (8点半) or
    "clock_range" (两点半到四点半). `past`: its window was over before now; `earlier`: it is on
    a day before today. `negated`: it follows 不是 ("不是明天 是后天"). `spans` are the
    character offsets it was read from, so a caller can take it out of the text.
    """

    start: datetime
    end: datetime
    precision: str
    spans: tuple[tuple[int, int], ...]
    past: bool
    earlier: bool
    negated: bool
    day_named: bool
    rolls: bool = False  # a weekday named alone ("周六"): next week's is as good a reading as this one

    @property
    def text_span(self) -> tuple[int, int]:
        """From the first to the last character the mention was read from."""
        return self.spans[0][0], self.spans[-1][1]


# Text allowed between the pieces of one mention ("礼拜六 礼拜天", "明天的上午"), and between days of a list.
_JOIN = re.compile(r"[\s,的()（）]{0,3}")
_LIST_JOIN = re.compile(r"[\s,、]{0,2}(?:和|或|或者|跟|还是)?[\s,、]{0,2}")
# How far a lone day may look ahead for its time ("这周六道德活动日 上午9点到11点").
_DEFERRED_GAP = 12


def _joined(text: str, a: Tok, b: Tok, pattern: re.Pattern[str] = _JOIN) -> bool:
    """Whether only joining characters stand between two tokens."""
    return a.end <= b.start and pattern.fullmatch(text, a.end, b.start) is not None


@dataclass
class _Draft:
    """A mention being assembled from tokens."""

    days: Days | None = None
    part: str | None = None
    clock: tuple[int, int] | None = None
    clock_end: tuple[int, int] | None = None
    strong: bool = True
    spans: list[tuple[int, int]] | None = None


def _take_time(text: str, toks: list[Tok], j: int, d: _Draft, part: str | None, joined_to: Tok | None) -> int:
    """Lay a part of the day and a clock time (or range) from tokens[j:] onto the draft; the next index.

    `joined_to`: the token the first piece must directly follow (None: it may stand anywhere).
    """
    spans = d.spans if d.spans is not None else []
    last = joined_to

    def follows(k: int) -> bool:
        return last is None or _joined(text, last, toks[k])

    if j < len(toks) and toks[j].kind == "part" and follows(j):
        part = PART_WORDS[toks[j].m.group("part")]
        spans.append((toks[j].start, toks[j].end))
        last = toks[j]
        j += 1
    if j < len(toks) and toks[j].kind in CLOCKISH and follows(j):
        first = clock_of(toks[j], part)
        if first is not None:
            d.clock, d.strong = first[:2], first[2]
            spans.append((toks[j].start, toks[j].end))
            j += 1
            if (j + 1 < len(toks) and toks[j].kind == "sep" and _joined(text, toks[j - 1], toks[j])
                    and _joined(text, toks[j], toks[j + 1])):
                k = j + 1
                end_part = part
                if toks[k].kind == "part" and k + 1 < len(toks) and _joined(text, toks[k], toks[k + 1]):
                    end_part = PART_WORDS[toks[k].m.group("part")]
                    k += 1
                if toks[k].kind in ("clock", "hm"):
                    second = clock_of(toks[k], end_part)
                    if second is not None:
                        end = second[:2]
                        if end <= d.clock and end[0] + 12 <= 23:
                            end = (end[0] + 12, end[1])  # "11点到1点": one in the afternoon
                        if end > d.clock:
                            d.clock_end, d.strong = end, True
                            spans.append((toks[j].start, toks[k].end))
                            j = k + 1
    d.part, d.spans = part, spans
    return j


def _resolve(d: _Draft, today: date, now: datetime, negated: bool) -> TimeMention | None:
    """The window of an assembled mention, rolled to next week only for a bare weekday."""
    days = d.days or Days(today, today, False)
    tz = now.tzinfo
    for roll in (0, 7):
        first, last = days.first + timedelta(days=roll), days.last + timedelta(days=roll)
        if first != last:
            start, end = datetime.combine(first, time(0), tz), datetime.combine(last, time(23, 59, 59), tz)
            precision = "days"
        elif d.clock is not None:
            start = datetime.combine(first, time(*d.clock), tz)
            if d.clock_end is not None:
                end, precision = datetime.combine(first, time(*d.clock_end), tz), "clock_range"
            else:
                end, precision = start + timedelta(minutes=59, seconds=59), "clock"
        elif d.part is not None:
            lo, hi = PART_WINDOWS[d.part]
            start, end = datetime.combine(first, time(lo), tz), datetime.combine(first, time(hi, 59, 59), tz)
            precision = "part"
        else:
            start, end = datetime.combine(first, time(0), tz), datetime.combine(first, time(23, 59, 59), tz)
            precision = "day"
        past = end < now
        if past and d.days is not None and not days.anchored and roll == 0:
            continue  # "礼拜六上午9点" said on Saturday at 10: next Saturday
        return TimeMention(start=start, end=end, precision=precision, spans=tuple(d.spans or ()),
                           past=past, earlier=first < today, negated=negated, day_named=d.days is not None,
                           rolls=d.days is not None and not days.anchored)
    return None


def _negated(text: str, start: int) -> bool:
    """Whether the words right before `start` deny it ("不是明天", "不要9点")."""
    before = text[max(0, start - 4):start]
    if before.rstrip().endswith(("不是", "不要", "不在")):
        return True
    # A lone 不 denies only what follows it directly: "…一下不 礼拜一" asks a question.
    return before.endswith(("别", "不")) and not before.endswith("不不")


def find_times(text: str, now: datetime) -> list[TimeMention]:
    """Every time `text` (normalised) names, in order, resolved against aware `now`."""
    text = mask(text, address_spans(text))
    toks = tokens(text)
    today = now.date()
    found: list[TimeMention] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        d = _Draft(spans=[])
        if tok.kind in DAYISH:
            got = days_of(tok, today)
            if got is None:
                i += 1
                continue
            d.days, implied = got
            d.spans = [(tok.start, tok.end)]
            j = i + 1
            # A run of days: "礼拜一到礼拜五", "礼拜六礼拜天", "礼拜六或者礼拜天".
            while j < len(toks):
                if toks[j].kind == "wk" and text[toks[j - 1].end:toks[j].start].strip() in ("(", "（"):
                    # "11月29日（周日）": the weekday only confirms the date before it.
                    d.spans.append((toks[j].start, toks[j].end))
                    j += 1
                    continue
                if (toks[j].kind == "sep" and j + 1 < len(toks) and toks[j + 1].kind in DAYISH
                        and _joined(text, toks[j - 1], toks[j]) and _joined(text, toks[j], toks[j + 1])):
                    nxt = days_of(toks[j + 1], today)
                    step = 2
                elif toks[j].kind in DAYISH and _joined(text, toks[j - 1], toks[j], _LIST_JOIN):
                    nxt = days_of(toks[j], today)
                    step = 1
                else:
                    break
                if nxt is None or nxt[0].last < d.days.first:
                    break
                d.days = Days(d.days.first, nxt[0].last, d.days.anchored and nxt[0].anchored)
                d.spans.append((toks[j].start, toks[j + step - 1].end))
                j += step
            j = _take_time(text, toks, j, d, implied, toks[j - 1])
            if d.part is None and d.clock is None and j < len(toks) and toks[j].kind in ("part",) + CLOCKISH:
                # "这周六道德活动日 上午9点到11点": the day's time may come after a name.
                later = toks[j]
                if later.start - d.spans[-1][1] <= _DEFERRED_GAP and not _negated(text, later.start):
                    j = _take_time(text, toks, j, d, None, None)
        elif tok.kind in ("part",) + CLOCKISH:
            j = _take_time(text, toks, i, d, None, None)
            lone_part = d.clock is None and d.part is not None and tok.m.group("part") not in APPOINTMENT_PARTS
            if j == i or lone_part or (d.clock is not None and not d.strong and d.part is None):
                i = max(j, i + 1)
                continue
        else:
            i += 1
            continue
        mention = _resolve(d, today, now, _negated(text, tok.start))
        if mention is not None and "每" not in text[max(0, tok.start - 5):tok.start]:
            found.append(mention)  # "每月5日", "每礼拜六": a standing arrangement is not one time
        i = max(j, i + 1)
    return found


def shifted(mention: TimeMention, days: int) -> TimeMention:
    """The same mention `days` later ("今晚8点已经过了，改成明晚8点？")."""
    delta = timedelta(days=days)
    return replace(mention, start=mention.start + delta, end=mention.end + delta, past=False, earlier=False)
