"""Festival and lunar dates (节日、农历): 元旦, 腊月二十三, 正月初八, 中秋节 — read by jionlp.

Our own grammar (`handlers.language.timeparse`) reads the days and hours villagers name; the
calendar of festivals and the lunar months is jionlp's, asked only when such a word is present,
so that it never reads a house number or a duration as a date.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from handlers.language import nlp

__all__ = ["festival_when"]

log = logging.getLogger(__name__)

_HINTS = re.compile(r"元旦|春节|除夕|大年三十|小年|元宵|清明|端午|中秋|国庆|重阳|冬至|腊八|腊月|正月|冬月|农历|阴历")
_MAX_SPAN = timedelta(days=31)
_JIO_FORMAT = "%Y-%m-%d %H:%M:%S"


def _to_range(result: Any, now: datetime) -> tuple[datetime, datetime] | None:
    """A jionlp parse result as an aware (start, end), or None for deltas, periods and ±inf."""
    if not isinstance(result, dict) or result.get("type") not in ("time_point", "time_span"):
        return None
    times = result.get("time")
    if not (isinstance(times, list) and len(times) == 2):
        return None
    try:
        start, end = (datetime.strptime(t, _JIO_FORMAT).replace(tzinfo=now.tzinfo) for t in times)
    except (TypeError, ValueError):  # open-ended spans come back as "-inf"/"inf"
        return None
    return (start, end) if start <= end else None


def festival_when(text: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The first festival or lunar date in `text` that is still ahead, as a window; None if none."""
    if not _HINTS.search(text):
        return None
    jio = nlp.jio()
    base = now.replace(tzinfo=None)  # jionlp reads wall-clock fields only
    try:
        found = jio.ner.extract_time(text, time_base=base, with_parsing=False)
    except Exception:  # jionlp raises ValueError (and worse) on text it cannot read
        log.debug("jionlp.extract_time failed on %r", text, exc_info=True)
        return None
    for entity in found:
        if entity.get("type") not in ("time_point", "time_span") or not _HINTS.search(entity["text"]):
            continue
        # This year's date, the next one jionlp finds, or the one a year on ("元旦" said in November).
        for when_base, future in ((base, False), (base, True), (base + timedelta(days=365), False)):
            try:
                span = _to_range(jio.parse_time(entity["text"], time_base=when_base, ret_future=future), now)
            except Exception:  # as above: a festival jionlp cannot place is no time
                span = None
            if span is not None and span[1] >= now and span[1] - span[0] <= _MAX_SPAN:
                return span
    return None
