"""Intake NLU (点单解析): turn a villager's free-text message into a draft order, or say what else it is.

docs/tasks.md: a resident's message ("我家草莓苗得了炭疽病，明天上午能来杨家村看看吗") becomes a
draft — category (ranked, with how sure we are), wanted time (and whether it is already over),
phone, place, house address, urgency, people needed — which the bot echoes for confirmation.
Not every message is a request: `kind` tells small talk, a volunteer's task update and a
correction of a draft apart (`handlers.language.kinds`). Each extractor prefers "nothing found"
to a wrong value; everything is a guess the person confirms or corrects.

jieba and jionlp load lazily (`handlers.language.nlp`); call `warm_up()` at start-up.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from handlers.language import nlp
from handlers.language.addresses import address_spans, mask
from handlers.language.categories import (
    Learned,
    best_or_other,
    guess_category,
    lexicon_scores,
)
from handlers.language.corrections import corrections_in
from handlers.language.festivals import festival_when
from handlers.language.kinds import Found, read_kind
from handlers.language.lexicon import NEGATIONS, OTHER, URGENT_WORDS
from handlers.language.people import volunteers_needed
from handlers.language.place_names import extract_place
from handlers.language.textnorm import normalize, parse_hours, parse_ref
from handlers.language.timeparse import TimeMention, find_times, shifted

__all__ = ["MAX_TEXT", "ParsedRequest", "classify", "parse_request", "score_categories", "warm_up"]

log = logging.getLogger(__name__)

MAX_TEXT = 1000  # docs/roles.md: a request is at most 1,000 characters; longer input is read that far
# A "wanted time" longer than this is a season or a year ("冬天", "今年"), not an appointment.
_MAX_SPAN = timedelta(days=31)
_HOURS = re.compile(r"[0-9.一二两俩三四五六七八九十半个]+\s*(?:个)?(?:小时|钟头)")

warm_up = nlp.warm_up


@dataclass(frozen=True)
class ParsedRequest:
    """A message read as a draft order; every field but `description` may be a guess.

    `kind`: "request", "small_talk", "task_update" or "correction" (`action` names the act of
    the last three). `category` is the likeliest of `ranked` ((category, probability) pairs,
    best first); `unsure` asks the intake to offer `alternatives` instead of guessing. `when` is
    the wanted window in `now`'s zone; `when_precision` says how exactly it was named ("days",
    "day", "part" of the day, "clock" or "clock_range"); `when_past` says it was over when said
    ("今晚8点" at 21:58), and `when_next` is the same time a day later, to propose. `people`: volunteers
    needed (1 unless the text says). `corrections`: for a correction, the fields it changes.
    """

    category: str
    when: tuple[datetime, datetime] | None
    phone: str | None
    place: str | None
    urgent: bool
    description: str
    kind: str = "request"
    action: str | None = None
    confidence: float = 0.0
    unsure: bool = True
    ranked: tuple[tuple[str, float], ...] = ()
    when_past: bool = False
    when_next: tuple[datetime, datetime] | None = None
    when_precision: str | None = None
    address: str | None = None
    people: int = 1
    task_ref: int | None = None
    hours: float | None = None
    corrections: dict[str, Any] = field(default_factory=dict)

    @property
    def alternatives(self) -> list[str]:
        """The likeliest categories other than 其他, best first, at most three (for buttons)."""
        return [c for c, p in self.ranked if c != OTHER][:3]

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the reading (times as ISO 8601 with offset)."""

        def window(w: tuple[datetime, datetime] | None) -> list[str] | None:
            return [w[0].isoformat(), w[1].isoformat()] if w else None

        return {
            "kind": self.kind,
            "action": self.action,
            "category": self.category,
            "confidence": round(self.confidence, 3),
            "unsure": self.unsure,
            "alternatives": [{"category": c, "score": round(p, 3)} for c, p in self.ranked if c != OTHER][:3],
            "when": window(self.when),
            "when_precision": self.when_precision,
            "when_past": self.when_past,
            "when_next": window(self.when_next),
            "phone": self.phone,
            "place": self.place,
            "address": self.address,
            "people": self.people,
            "urgent": self.urgent,
            "task_ref": self.task_ref,
            "hours": self.hours,
            "corrections": self.corrections,
        }


def _extract_phones(text: str) -> list[tuple[int, int, str]]:
    """Phone numbers in `text` as (start, end, normalised number), mobiles first."""
    try:
        found = nlp.jio().extract_phone_number(text, detail=True)
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


def _negated(text: str, start: int) -> bool:
    """Whether the word at `start` follows a negation ("不急", "不用着急")."""
    return any(text[max(0, start - len(neg)):start] == neg for neg in NEGATIONS)


def _is_urgent(text: str, words: list[nlp.Word]) -> bool:
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


def _wanted(times: list[TimeMention]) -> TimeMention | None:
    """The wanted time: the first one not denied ("不是明天"), not on a past day, not a season."""
    for mention in times:
        if not (mention.negated or mention.earlier) and mention.end - mention.start <= _MAX_SPAN:
            return mention
    return None


def _when_next(mention: TimeMention | None) -> tuple[datetime, datetime] | None:
    """For a time already over today ("今晚8点" at 22:00), the same time tomorrow."""
    if mention is None or not mention.past or mention.precision == "days":
        return None
    later = shifted(mention, 1)
    return later.start, later.end


def parse_request(text: str, now: datetime, *, model: Learned | None = None) -> ParsedRequest:
    """Read a message as a draft order, with times relative to aware `now`; `model` is the learned blend."""
    description = normalize(text)
    read = description[:MAX_TEXT]
    phones = _extract_phones(read)
    # Phone numbers and house numbers are blanked before times are read: digits are never a date.
    masked = mask(read, [(s, e) for s, e, _ in phones])
    lowered = read.lower()
    words = nlp.words(lowered)
    guess = guess_category(lowered, [w for w, _, _, _ in words], model)
    times = find_times(masked, now)
    wanted = _wanted(times)
    when = (wanted.start, wanted.end) if wanted else festival_when(masked, now)
    precision = wanted.precision if wanted else ("day" if when else None)
    addresses = address_spans(masked)
    address = masked[addresses[0][0]:addresses[0][1]].strip() if addresses else None
    people = volunteers_needed(masked)
    place = extract_place(words)
    values = sum(e - s for s, e, _ in phones) + sum(e - s for s, e in addresses) + sum(
        e - s for m in times for s, e in m.spans)
    evidence = max((s for c, s in lexicon_scores(guess.keywords).items() if c != OTHER), default=0.0)
    reading = read_kind(lowered, Found(time=bool(times), phone=bool(phones), address=bool(addresses),
                                       place=place is not None, people=people is not None, evidence=evidence,
                                       values_length=values))
    corrections: dict[str, Any] = {}
    if reading.kind == "correction":
        corrections = corrections_in(masked, wanted, [p for _, _, p in phones], place, people)
    return ParsedRequest(
        category=guess.category,
        when=when,
        phone=phones[0][2] if phones else None,
        place=place,
        urgent=_is_urgent(lowered, words),
        description=description,
        kind=reading.kind,
        action=reading.action,
        confidence=guess.confidence,
        unsure=guess.unsure,
        ranked=guess.ranked,
        when_past=bool(wanted and wanted.past),
        when_next=_when_next(wanted),
        when_precision=precision,
        address=address,
        people=(people or 1) if reading.kind == "request" else (people or 0),
        task_ref=parse_ref(read) if reading.kind == "task_update" else None,
        hours=_hours(read) if reading.action == "complete" else None,
        corrections=corrections,
    )


def _hours(text: str) -> float | None:
    """Hours a volunteer says the work took ("用了三个半小时", "前后弄了俩小时")."""
    m = _HOURS.search(text)
    return parse_hours(m.group(0).replace("俩", "两")) if m else None


def score_categories(text: str) -> dict[str, float]:
    """Lexicon score per category for `text` (only categories with a hit appear)."""
    lowered = normalize(text).lower()
    return lexicon_scores(guess_category(lowered, [w for w, _, _, _ in nlp.words(lowered)]).keywords)


def classify(text: str) -> str:
    """The best-scoring category of `text` by the lexicon; 其他 when nothing matches or the top score is tied."""
    return best_or_other(score_categories(text))
