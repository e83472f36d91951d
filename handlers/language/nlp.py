"""The two Chinese NLP libraries the parsers use, loaded lazily and once: jieba and jionlp.

jieba segments text into words with part-of-speech tags (places, single-character keywords);
jionlp finds phone numbers and the festival and lunar dates our own time grammar leaves alone.
Both are slow to load (about a second each), so they load on first use; `warm_up()` pays that
cost at start-up instead of on the first villager's message.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from typing import Any

__all__ = ["Word", "jio", "warm_up", "words"]

_lock = threading.Lock()
_posseg: Any = None
_jionlp: Any = None

# (word, POS flag, start, end) with character offsets into the text.
Word = tuple[str, str, int, int]


def _jieba_posseg() -> Any:
    """jieba.posseg, with the dictionary loaded once and jieba's chatter silenced."""
    global _posseg
    if _posseg is not None:  # fast path: no lock once loaded
        return _posseg
    with _lock:
        if _posseg is None:
            import jieba
            import jieba.posseg

            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _posseg = jieba.posseg
    return _posseg


def jio() -> Any:
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


def words(text: str) -> list[Word]:
    """jieba words of `text` as (word, POS flag, start, end).

    Dictionary words only (no HMM guessing of unknown words): ten times faster, and a name
    jieba does not know comes out as single characters that the place reader glues back.
    """
    out, pos = [], 0
    for pair in _jieba_posseg().cut(text, HMM=False):
        out.append((pair.word, pair.flag, pos, pos + len(pair.word)))
        pos += len(pair.word)
    return out


def warm_up() -> None:
    """Load jieba and jionlp now, so that the first user message is not the slow one."""
    words("预热")
    jio().extract_phone_number("13800000000", detail=True)
