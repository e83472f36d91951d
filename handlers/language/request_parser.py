"""Intake NLU (点单解析): turn a villager's free-text request into a draft order.

PRODUCT.md §3: a resident's message ("我家草莓苗得了炭疽病，明天上午能来杨家村看看吗") becomes a
draft with a category, a wanted time, a phone, a place and an urgency flag, which the bot echoes
for confirmation. Everything here is a best guess that the resident confirms or corrects, so
each extractor prefers "nothing found" to a wrong value.

jieba (segmentation, POS) and jionlp (time, phone) are slow to load, so both are loaded lazily,
once, on first use; call `warm_up()` at start-up to pay that cost before the first message.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from handlers.language.lexicon import (
    GENERIC_PLACES,
    LEXICON,
    NEGATIONS,
    OTHER,
    PLACE_SUFFIXES,
    REGION_SUFFIXES,
    URGENT_WORDS,
)
from handlers.language.textnorm import normalize

__all__ = ["ParsedRequest", "parse_request", "classify", "score_categories", "warm_up"]

log = logging.getLogger(__name__)

# A "wanted time" longer than this is a season or a year ("冬天", "今年"), not an appointment.
_MAX_SPAN = timedelta(days=31)
_JIO_FORMAT = "%Y-%m-%d %H:%M:%S"

# jieba POS flags that can be part of a place name (nouns, names, abbreviations; "村" is "zg").
_NAME_FLAGS = frozenset({"n", "nr", "nr1", "nr2", "nrt", "nrfg", "ns", "nsf", "nt", "nz", "ng", "j", "zg"})
# A candidate ending like this is a generic word ("回家乡"), not a name.
_GENERIC_ENDINGS = tuple(sorted(GENERIC_PLACES - set(PLACE_SUFFIXES)))
_LOCATIVES = ("里", "头", "边", "上", "下", "内", "外", "口", "前", "后")
_CJK = re.compile(r"[\u4e00-\u9fff]+")

_lock = threading.Lock()
_jieba_posseg: Any = None
_jionlp: Any = None


@dataclass(frozen=True)
class ParsedRequest:
    """A draft order parsed from free text; every field but `description` may be a guess."""

    category: str  # one of lexicon.CATEGORIES
    when: tuple[datetime, datetime] | None  # wanted time window, in `now`'s time zone
    phone: str | None  # a mobile as 11 digits, or a landline as written ("0419-1234567")
    place: str | None  # a village/community/town name mentioned in the text
    urgent: bool
    description: str  # the normalised text

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the draft (times as ISO 8601 with offset)."""
        return {
            "category": self.category,
            "when": [self.when[0].isoformat(), self.when[1].isoformat()] if self.when else None,
            "phone": self.phone,
            "place": self.place,
            "urgent": self.urgent,
        }


def _posseg() -> Any:
    """jieba.posseg, with the dictionary loaded once (≈1 s) and jieba's chatter silenced."""
    global _jieba_posseg
    if _jieba_posseg is not None:  # fast path: no lock once loaded
        return _jieba_posseg
    with _lock:
        if _jieba_posseg is None:
            import jieba
            import jieba.posseg

            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _jieba_posseg = jieba.posseg
    return _jieba_posseg


def _jio() -> Any:
    """jionlp, imported once; its import prints a banner to stdout, which we swallow."""
    global _jionlp
    if _jionlp is not None:
        return _jionlp
    with _lock:
        if _jionlp is None:
            # The banner would corrupt the console channel's output and a CLI's stdout.
            with contextlib.redirect_stdout(io.StringIO()):
                import jionlp

            _jionlp = jionlp
    return _jionlp


def warm_up() -> None:
    """Load jieba and jionlp now, so that the first user message is not the slow one."""
    _words("预热")
    _extract_when("明天上午", datetime.now().astimezone())


def _words(text: str) -> list[tuple[str, str, int, int]]:
    """jieba words of `text` as (word, POS flag, start, end) character offsets."""
    out, pos = [], 0
    for pair in _posseg().cut(text):
        out.append((pair.word, pair.flag, pos, pos + len(pair.word)))
        pos += len(pair.word)
    return out


# Keywords longest first, each with the categories it counts for: a longer keyword consumes its
# characters, so "养老保险" counts for 理论宣讲 and not also "养老" for 助老助残.
_KEYWORDS: list[tuple[str, list[tuple[str, float]]]] = sorted(
    {
        kw: [(cat, words[kw]) for cat, words in LEXICON.items() if kw in words]
        for words in LEXICON.values()
        for kw in words
    }.items(),
    key=lambda item: -len(item[0]),
)


def score_categories(text: str) -> dict[str, float]:
    """Lexicon score per category for `text` (only categories with a hit appear)."""
    text = normalize(text).lower()
    return _score(text, _words(text))


def _score(text: str, words: list[tuple[str, str, int, int]]) -> dict[str, float]:
    """Scores of normalised, lower-cased `text` whose jieba `words` are given."""
    consumed = [False] * len(text)
    scores: dict[str, float] = {}
    for kw, credits in _KEYWORDS:
        if len(kw) == 1:
            spans = [(s, e) for w, _, s, e in words if w == kw]
        else:
            spans = _occurrences(text, kw)
        free = [(s, e) for s, e in spans if not any(consumed[s:e])]
        for s, e in free:
            consumed[s:e] = [True] * (e - s)
        if free:  # a keyword counts once, however often it is repeated
            for cat, weight in credits:
                scores[cat] = scores.get(cat, 0.0) + weight
    return scores


def _occurrences(text: str, word: str) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) spans of `word` in `text`.

    Plain `str.find`: a regex per keyword would overflow `re`'s compile cache (the lexicon has
    hundreds of words) and recompile every pattern on every message — 40 ms a request.
    """
    spans, start = [], text.find(word)
    while start != -1:
        spans.append((start, start + len(word)))
        start = text.find(word, start + len(word))
    return spans


def classify(text: str) -> str:
    """The best-scoring category of `text`; 其他 when nothing matches or the top score is tied."""
    return _best(score_categories(text))


def _best(scores: dict[str, float]) -> str:
    """The single top category of `scores`, or 其他."""
    if not scores:
        return OTHER
    best = max(scores.values())
    winners = [cat for cat, score in scores.items() if score == best]
    # A tie means the text is really ambiguous: let a human pick rather than guess.
    return winners[0] if len(winners) == 1 and best >= 1 else OTHER


def _to_range(result: Any, tz: tzinfo | None) -> tuple[datetime, datetime] | None:
    """A jionlp parse result as an aware (start, end), or None for deltas, periods and ±inf."""
    if not isinstance(result, dict) or result.get("type") not in ("time_point", "time_span"):
        return None
    times = result.get("time")
    if not (isinstance(times, list) and len(times) == 2):
        return None
    try:
        start, end = (datetime.strptime(t, _JIO_FORMAT).replace(tzinfo=tz) for t in times)
    except (TypeError, ValueError):  # open-ended spans come back as "-inf"/"inf"
        return None
    return (start, end) if start <= end else None


def _parse_expression(expr: str, now: datetime) -> tuple[datetime, datetime] | None:
    """Parse one time expression relative to `now`, preferring a window that is not over yet."""
    jio = _jio()
    # jionlp reads only the wall-clock fields of time_base; we re-attach now's zone ourselves.
    base = now.replace(tzinfo=None)
    for future in (False, True):
        # ret_future=True is only a fallback: it pushes "下周" to the week after next, but
        # fixes "周六上午9点" said on Saturday at 10:00 (→ next Saturday) and "12号" (→ next month).
        try:
            span = _to_range(jio.parse_time(expr, time_base=base, ret_future=future), now.tzinfo)
        except Exception:  # jionlp raises ValueError (and worse) on text it cannot read
            return None
        if span is None:
            return None
        if span[1] >= now:
            return span if span[1] - span[0] <= _MAX_SPAN else None
    return None  # "昨天": a time in the past is not a wanted time


def _extract_when(text: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The first future time window the text mentions, or None."""
    try:
        found = _jio().ner.extract_time(text, time_base=now.replace(tzinfo=None), with_parsing=False)
    except Exception:
        log.debug("jionlp.extract_time failed on %r", text, exc_info=True)
        return None
    for entity in found:
        if entity.get("type") in ("time_point", "time_span"):
            span = _parse_expression(entity["text"], now)
            if span is not None:
                return span
    return None


def _extract_phones(text: str) -> list[tuple[int, int, str]]:
    """Phone numbers in `text` as (start, end, normalised number), mobiles first."""
    try:
        found = _jio().extract_phone_number(text, detail=True)
    except Exception:
        log.debug("jionlp.extract_phone_number failed on %r", text, exc_info=True)
        return []
    mobiles, landlines = [], []
    for item in sorted(found, key=lambda d: d["offset"][0]):
        start, end = item["offset"]
        digits = re.sub(r"\D", "", item["text"])
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
        # jionlp reports "138 1234 5678" both as a cell and as a landline: trust the digits.
        if re.fullmatch(r"1[3-9]\d{9}", digits):
            mobiles.append((start, end, digits))
        elif 7 <= len(digits) <= 12:
            landlines.append((start, end, re.sub(r"[^\d-]", "", item["text"]).strip("-")))
    return mobiles + landlines


def _is_name_part(word: str, flag: str, next_word: str, next_flag: str) -> bool:
    """Whether a jieba word can be part of a place name, given the word after it."""
    if not _CJK.fullmatch(word) or (word in GENERIC_PLACES and word not in PLACE_SUFFIXES):
        return False  # "农村", "村里" end a name; a bare "社区"/"村" continues the one before it
    if flag in _NAME_FLAGS:
        return True
    if flag in ("a", "b", "f") and len(word) == 1:
        return True  # jieba splits off a leading 大/小/新/上/东 (大/城子/镇, 上/河村)
    if flag == "s" and len(word) == 2 and not word.endswith(_LOCATIVES):
        return True  # 河沿, but not 村里/东头/路边
    if len(word) != 2:
        return False
    if flag == "m":  # 二道/沟村, 三道/岭村 — but not 很多/村
        return next_flag in _NAME_FLAGS and next_word not in PLACE_SUFFIXES
    # Names like 前进村, 胜利村, 红旗屯: a two-character word right before a bare suffix.
    return flag in ("v", "vn", "a") and next_word in PLACE_SUFFIXES


def _extract_place(words: list[tuple[str, str, int, int]]) -> str | None:
    """A named place: name-like words ending in 村/屯/社区/镇/乡/街道/广场, else a region `ns` word."""
    runs: list[list[str]] = [[]]
    for i, (word, flag, _, _) in enumerate(words):
        next_word, next_flag = words[i + 1][:2] if i + 1 < len(words) else ("", "")
        if _is_name_part(word, flag, next_word, next_flag):
            runs[-1].append(word)
        elif runs[-1]:
            runs.append([])
    for run in runs:
        # jieba splits names unpredictably (曹/家村, 黄土/坎镇/蓬莱/社区), so glue the run and
        # keep the longest prefix that ends with a place suffix at a word boundary.
        text, candidate = "", None
        for word in run:
            text += word
            if text.endswith(PLACE_SUFFIXES):
                candidate = text
        if candidate and candidate not in GENERIC_PLACES and not candidate.endswith(_GENERIC_ENDINGS):
            return candidate
    for word, flag, _, _ in words:
        # jieba tags landforms ("河沟") as ns too, so a lone ns word must look like a region name.
        if flag == "ns" and (len(word) >= 3 or word.endswith(REGION_SUFFIXES)) and word not in GENERIC_PLACES:
            return word
    return None


def _negated(text: str, start: int) -> bool:
    """Whether the word at `start` follows a negation ("不急", "不用着急")."""
    return any(text[max(0, start - len(neg)):start] == neg for neg in NEGATIONS)


def _is_urgent(text: str, words: list[tuple[str, str, int, int]]) -> bool:
    """Whether the text asks for haste (急, 紧急, 马上, 赶紧, 尽快, 救命…), not negated."""
    for marker in URGENT_WORDS:
        if len(marker) == 1:
            # Single "急" only as a whole word: "急救培训" is a health topic, not an emergency.
            starts = [s for w, _, s, _ in words if w == marker]
        else:
            starts = [m.start() for m in re.finditer(re.escape(marker), text)]
        if any(not _negated(text, s) for s in starts):
            return True
    return False


def parse_request(text: str, now: datetime) -> ParsedRequest:
    """Parse a free-text service request into a draft, with times relative to aware `now`."""
    description = normalize(text)
    phones = _extract_phones(description)
    # Blank out phone numbers before looking for times, so digits are never read as a date.
    time_text = list(description)
    for start, end, _ in phones:
        time_text[start:end] = " " * (end - start)
    lowered = description.lower()
    words = _words(lowered)
    return ParsedRequest(
        category=_best(_score(lowered, words)),
        when=_extract_when("".join(time_text), now),
        phone=phones[0][2] if phones else None,
        place=_extract_place(words),
        urgent=_is_urgent(lowered, words),
        description=description,
    )
