"""Which service a request asks for (服务类别), how sure we are, and what else it might be.

The lexicon gives each category a score: the weights of its keywords found in the text, each
keyword counted once, a longer keyword taking its characters from the shorter ones inside it
("养老保险" is policy, not also "养老"). Scores become a distribution over the categories; a
model learned from confirmed requests (`handlers.language.bayes`) is blended in as far as
cross-validation found it helps (`handlers.language.learning`), so with no examples the
lexicon decides alone. A guess is *unsure* — the intake
then asks, offering the likeliest two or three — when it is 其他, weak, or has a close second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from handlers.language.lexicon import CATEGORIES, LEXICON, OTHER

__all__ = ["CategoryGuess", "Learned", "best_or_other", "blend", "blended_category", "guess_category", "lexicon_scores", "matched_keywords"]

# How sharply lexicon scores turn into probabilities: 4 points ahead is about e² ≈ 7 times likelier.
_TEMPERATURE = 2.0
# What 其他 scores when its own words are absent: a single weak keyword barely beats it.
_OTHER_BASE = 0.5
# Unsure below this probability, or when the second is at least this share of the first.
UNSURE_BELOW = 0.75
CLOSE_SECOND = 0.6
ALTERNATIVES = 3

_MAX_LEN = max(len(w) for words in LEXICON.values() for w in words)
# keyword → [(category, weight)], one entry per category that lists it.
_KEYWORDS: dict[str, list[tuple[str, float]]] = {}
for _category, _words in LEXICON.items():
    for _word, _weight in _words.items():
        _KEYWORDS.setdefault(_word, []).append((_category, _weight))
_SINGLE = frozenset(w for w in _KEYWORDS if len(w) == 1)


class Learned(Protocol):
    """A model learned from labelled requests: its probabilities, and how much to trust them."""

    blend: float

    def probabilities(self, text: str) -> dict[str, float]: ...


@dataclass(frozen=True)
class CategoryGuess:
    """Categories ranked best first with probabilities; `unsure` when the intake should ask."""

    ranked: tuple[tuple[str, float], ...]
    unsure: bool
    keywords: tuple[str, ...] = ()

    @property
    def category(self) -> str:
        """The likeliest category."""
        return self.ranked[0][0]

    @property
    def confidence(self) -> float:
        """The probability of the likeliest category, 0–1."""
        return self.ranked[0][1]

    def alternatives(self, n: int = ALTERNATIVES) -> list[str]:
        """The `n` likeliest categories that are not 其他 (to offer as buttons), best first."""
        return [c for c, p in self.ranked if c != OTHER and p > 0][:n]


def matched_keywords(text: str, words: Sequence[str]) -> list[str]:
    """The lexicon keywords found in lower-cased normalised `text`, longest claim first.

    Multi-character keywords match anywhere; single characters (虫, 修, 捐) only as a whole
    word of `words` (the text's jieba segmentation), so that "苗" does not fire inside "疫苗".
    """
    found: list[tuple[int, int, str]] = []
    n = len(text)
    for i in range(n):
        for length in range(min(_MAX_LEN, n - i), 1, -1):
            piece = text[i:i + length]
            if piece in _KEYWORDS:
                found.append((i, i + length, piece))
    pos = 0
    for word in words:
        if word in _SINGLE:
            found.append((pos, pos + 1, word))
        pos += len(word)
    # Longest first, then leftmost: a longer keyword takes its characters before a shorter one.
    found.sort(key=lambda m: (m[0] - m[1], m[0]))
    taken = bytearray(n + 1)
    kept: list[str] = []
    for start, end, word in found:
        if any(taken[start:end]):
            continue
        taken[start:end] = b"\x01" * (end - start)
        if word not in kept:  # a keyword counts once, however often it is repeated
            kept.append(word)
    return kept


def lexicon_scores(keywords: Sequence[str]) -> dict[str, float]:
    """Score per category of the matched `keywords` (only categories with a hit appear)."""
    scores: dict[str, float] = {}
    for word in keywords:
        for category, weight in _KEYWORDS[word]:
            scores[category] = scores.get(category, 0.0) + weight
    return scores


def best_or_other(scores: dict[str, float]) -> str:
    """The single top category of `scores`, or 其他 when nothing matched or the top is tied."""
    if not scores:
        return OTHER
    best = max(scores.values())
    winners = [cat for cat, score in scores.items() if score == best]
    # A tie means the text is really ambiguous: let a human pick rather than guess.
    return winners[0] if len(winners) == 1 and best >= 1 else OTHER


def _lexicon_distribution(scores: dict[str, float]) -> dict[str, float]:
    """Lexicon scores as probabilities over the categories that scored, and 其他."""
    raw = {c: s for c, s in scores.items() if s > 0}
    raw[OTHER] = max(raw.get(OTHER, 0.0), _OTHER_BASE)
    top = max(raw.values())
    weights = {c: math.exp((s - top) / _TEMPERATURE) for c, s in raw.items()}
    total = sum(weights.values())
    return {c: w / total for c, w in weights.items()}


_ORDER = {c: i for i, c in enumerate(CATEGORIES)}


def _ranked(probs: dict[str, float], keywords: Sequence[str]) -> CategoryGuess:
    """Probabilities as a ranked guess, with its unsure flag."""
    # Ties keep the lexicon's order of categories, so the same text always ranks the same way.
    ranked = tuple(sorted(((c, round(p, 4)) for c, p in probs.items() if p > 0),
                          key=lambda cp: (-cp[1], _ORDER[cp[0]])))
    top, p_top = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 and ranked[1][0] != OTHER else 0.0
    unsure = top == OTHER or p_top < UNSURE_BELOW or second >= CLOSE_SECOND * p_top
    return CategoryGuess(ranked=ranked, unsure=unsure, keywords=tuple(keywords))


def blend(lexicon: CategoryGuess, learned: dict[str, float], weight: float) -> CategoryGuess:
    """Mix a model's probabilities into the lexicon's guess.

    The model gets its full `weight` where the lexicon is unsure, a third of it where the
    lexicon is sure (a keyword that names the service is not overruled by a few examples), and
    decides alone where the lexicon found no keyword at all.
    """
    mixed = _mixed(lexicon, learned, weight)
    return lexicon if mixed is None else _ranked(mixed, lexicon.keywords)


def blended_category(lexicon: CategoryGuess, learned: dict[str, float], weight: float) -> str:
    """The category `blend` would put first, without building the whole ranking (for cross-validation)."""
    mixed = _mixed(lexicon, learned, weight)
    if mixed is None:
        return lexicon.category
    return min(mixed, key=lambda c: (-round(mixed[c], 4), _ORDER[c]))


def _mixed(lexicon: CategoryGuess, learned: dict[str, float], weight: float) -> dict[str, float] | None:
    """The blend's probabilities; None when the model's weight comes to nothing."""
    if weight <= 0:
        return None
    # No keyword at all: the lexicon abstains, and a trusted model decides alone.
    w = 1.0 if not lexicon.keywords else weight if lexicon.unsure else weight / 3
    probs = dict(lexicon.ranked)
    return {c: (1 - w) * probs.get(c, 0.0) + w * learned.get(c, 0.0) for c in CATEGORIES}


def guess_category(text: str, words: Sequence[str], model: Learned | None = None) -> CategoryGuess:
    """Rank the categories of lower-cased normalised `text` (jieba `words` given), blending in `model`."""
    keywords = matched_keywords(text, words)
    guess = _ranked(_lexicon_distribution(lexicon_scores(keywords)), keywords)
    if model is None or model.blend <= 0:
        return guess
    return blend(guess, model.probabilities(text), model.blend)
