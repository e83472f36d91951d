"""A naive Bayes classifier over character n-grams, learned from confirmed requests (学习).

Every request a villager confirms (or whose category they or an admin correct) is a labelled
example. Character uni-, bi- and trigrams need no word list and catch dialect the lexicon lacks
("倒嚼", "剃头"); each lexicon keyword is also taught as a small example of its category, so the
model knows the lexicon from the start. Pure standard library: training 10,000 examples takes
seconds, and the model is compressed JSON kept in the database, so every worker uses the same
one. How much the blend with the lexicon trusts it (`blend`) is set by cross-validation when it
is trained (`handlers.language.learning`).
"""

from __future__ import annotations

import json
import math
import re
import sys
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from handlers.language.lexicon import CATEGORIES, LEXICON
from handlers.language.textnorm import normalize

__all__ = ["FORMAT", "Counts", "NaiveBayes", "features", "train", "train_counts"]

FORMAT = "nb-char123-v1"
_ALPHA = 0.5  # add-α smoothing of feature counts
# How much one lexicon keyword teaches, per point of its weight (an example counts 1).
_LEXICON_DOC = 1
# An n-gram seen in fewer examples than this (and in no keyword) says nothing; it is dropped.
_MIN_COUNT = 2
# Characters that make an n-gram a fragment of grammar rather than a word ("的政策", "缺个").
_FUNCTION_CHARS = frozenset("的了个俺你我他她它是在有和就都也不吗啊吧呢给来去想找请要能会着看人家们这那把让被还又再很太")
Gains = tuple[tuple[int, float], ...]
_RUNS = re.compile(r"[\u4e00-\u9fff]+|[a-z]+")
_INDEX = {c: i for i, c in enumerate(CATEGORIES)}


def features(text: str) -> tuple[str, ...]:
    """Character 1-, 2- and 3-grams of the Chinese (and Latin) runs of `text`, each once."""
    out: set[str] = set()
    for run in _RUNS.findall(normalize(text).lower()):
        for n in (1, 2, 3):
            # Interned: the same n-gram from many examples is one string in memory.
            out.update(sys.intern(run[i:i + n]) for i in range(len(run) - n + 1))
    return tuple(out)


class Counts:
    """Feature counts per category, as training adds them (whole numbers: no float is allocated)."""

    def __init__(self) -> None:
        self.examples = 0
        self.class_counts = [0] * len(CATEGORIES)
        self.class_totals = [0] * len(CATEGORIES)
        self.counts: dict[str, dict[int, int]] = {}

    def add(self, feats: Iterable[str], ci: int, amount: int = 1, example: bool = True) -> None:
        """Count one example's (or keyword's) features for category index `ci`."""
        counts = self.counts
        n = 0
        for f in feats:
            per = counts.get(f)
            if per is None:
                per = counts[f] = {}
            per[ci] = per.get(ci, 0) + amount
            n += 1
        self.class_totals[ci] += amount * n
        if example:
            self.examples += 1
            self.class_counts[ci] += 1

    def keep_only(self, vocabulary: dict[str, object]) -> None:
        """Forget the n-grams a model dropped, so that its totals and these still match."""
        self.counts = {f: per for f, per in self.counts.items() if f in vocabulary}
        self.class_totals = [0] * len(CATEGORIES)
        for per in self.counts.values():
            for ci, c in per.items():
                self.class_totals[ci] += c


@dataclass
class NaiveBayes:
    """Per-category feature counts; `probabilities` is P(category | text).

    `minus` (cross-validation only) holds the counts of the examples held out, so that one
    training serves every fold: the fold's model is the whole one less its own examples.
    """

    examples: int
    class_counts: list[int]
    class_totals: list[int]
    counts: dict[str, dict[int, int]] = field(default_factory=dict)
    blend: float = 0.0
    classes: tuple[str, ...] = CATEGORIES
    minus: Counts | None = None

    def __post_init__(self) -> None:
        vocab = len(self.counts) or 1
        class_counts, class_totals = list(self.class_counts), list(self.class_totals)
        if self.minus is not None:
            class_counts = [a - b for a, b in zip(class_counts, self.minus.class_counts)]
            class_totals = [a - b for a, b in zip(class_totals, self.minus.class_totals)]
        total = sum(class_counts) + len(self.classes)
        log_alpha = math.log(_ALPHA)
        # Per class: the log prior, and what each known feature costs before its own counts.
        self._log_prior = [math.log((c + 1) / total) for c in class_counts]
        self._per_feature = [log_alpha - math.log(t + _ALPHA * vocab) for t in class_totals]
        # feature → ((class, log(count + α) − log α), …), filled as features are met.
        self._gains: dict[str, Gains] = {}
        self._base: dict[str, Gains] | None = None

    def all_gains(self) -> dict[str, Gains]:
        """The gains of every feature (computed once; a fold model starts from its whole model's)."""
        if len(self._gains) < len(self.counts):
            self._gains = {f: _gains(per) for f, per in self.counts.items()}
        return self._gains

    def without(self, held_out: Counts) -> NaiveBayes:
        """This model as if trained without the `held_out` examples (one training serves every fold)."""
        fold = NaiveBayes(self.examples - held_out.examples, self.class_counts, self.class_totals, self.counts,
                          self.blend, self.classes, held_out)
        fold._base = self.all_gains()
        # Only the n-grams the held-out examples used count differently in the fold's model.
        for f, out in held_out.counts.items():
            per = self.counts.get(f)
            if per is not None:
                fold._gains[f] = _gains({ci: c - out.get(ci, 0) for ci, c in per.items()})
        return fold

    def _gain(self, feature: str) -> Gains | None:
        """The gains of one feature; None if the model never saw it."""
        found = self._gains.get(feature)
        if found is not None:
            return found
        if self._base is not None:
            return self._base.get(feature)
        per = self.counts.get(feature)
        if per is None:
            return None
        found = self._gains[feature] = _gains(per)
        return found

    def probabilities_of(self, feats: Iterable[str]) -> dict[str, float]:
        """P(category | text) for every category, from the text's `features`."""
        scores = list(self._log_prior)
        present = 0
        for f in feats:
            pairs = self._gain(f)
            if pairs:
                present += 1
                for ci, gain in pairs:
                    scores[ci] += gain
        scores = [s + present * k for s, k in zip(scores, self._per_feature)]
        top = max(scores)
        weights = [math.exp(s - top) for s in scores]
        total = sum(weights)
        return {c: w / total for c, w in zip(self.classes, weights)}

    def probabilities(self, text: str) -> dict[str, float]:
        """P(category | text) for every category."""
        return self.probabilities_of(features(text))

    def learned_words(self, per_class: int = 8) -> dict[str, list[str]]:
        """Per category, the n-grams most telling of it that none of its lexicon keywords contains."""
        out: dict[str, list[str]] = {}
        grand = sum(self.class_totals) or 1.0
        for ci, category in enumerate(self.classes):
            known = " ".join(LEXICON.get(category, {}))
            scored = []
            for feature, per in self.counts.items():
                mine = per.get(ci, 0.0)
                if (mine < _MIN_COUNT or len(feature) < 2 or feature in known
                        or feature[0] in _FUNCTION_CHARS or feature[-1] in _FUNCTION_CHARS):
                    continue
                rest = sum(per.values()) - mine
                ratio = math.log((mine + _ALPHA) / (self.class_totals[ci] + 1)) - math.log(
                    (rest + _ALPHA) / (grand - self.class_totals[ci] + 1))
                if ratio > 0:
                    scored.append((ratio, feature))
            scored.sort(reverse=True)
            chosen: list[str] = []
            for _, feature in scored:
                # "倒嚼" and "不倒嚼" say the same: keep the first, skip what overlaps it.
                if not any(feature in c or c in feature for c in chosen):
                    chosen.append(feature)
                if len(chosen) == per_class:
                    break
            if chosen:
                out[category] = chosen
        return out

    def to_bytes(self) -> bytes:
        """The model as compressed JSON, for the database."""
        body = {"format": FORMAT, "examples": self.examples, "blend": self.blend, "classes": list(self.classes),
                "class_counts": self.class_counts, "class_totals": self.class_totals,
                "counts": {f: [[ci, c] for ci, c in per.items()] for f, per in self.counts.items()}}
        return zlib.compress(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), 6)

    @classmethod
    def from_bytes(cls, data: bytes) -> NaiveBayes:
        """A model written by `to_bytes`; ValueError if it is of another format or other categories."""
        try:
            body = json.loads(zlib.decompress(data))
        except (zlib.error, ValueError) as e:
            raise ValueError(f"stored model is unreadable: {e}") from e
        if body.get("format") != FORMAT or tuple(body.get("classes", ())) != CATEGORIES:
            raise ValueError("stored model is of another format or category list")
        counts = {sys.intern(f): {int(ci): int(c) for ci, c in pairs} for f, pairs in body["counts"].items()}
        return cls(examples=int(body["examples"]), class_counts=body["class_counts"],
                   class_totals=body["class_totals"], counts=counts, blend=float(body.get("blend", 0.0)))


def _gains(per: dict[int, int]) -> Gains:
    """What a feature adds to each class that has seen it: log(count + α) − log α."""
    log_alpha = math.log(_ALPHA)
    return tuple((ci, math.log(c + _ALPHA) - log_alpha) for ci, c in per.items() if c > 0)


def train_counts(counts: Counts, *, blend: float = 0.0) -> NaiveBayes:
    """A model from counted examples plus the lexicon's keywords; rare n-grams are dropped."""
    from_lexicon: set[str] = set()
    for category, words in LEXICON.items():
        for word, weight in words.items():
            feats = features(word)
            from_lexicon.update(feats)
            counts.add(feats, _INDEX[category], _LEXICON_DOC * int(weight), example=False)
    for f in [f for f, per in counts.counts.items() if f not in from_lexicon and sum(per.values()) < _MIN_COUNT]:
        # Dropped with what it added to its class's total, so the rest keep their proportions.
        for ci, c in counts.counts.pop(f).items():
            counts.class_totals[ci] -= c
    return NaiveBayes(examples=counts.examples, class_counts=counts.class_counts,
                      class_totals=counts.class_totals, counts=counts.counts, blend=blend)


def train(examples: Iterable[tuple[str, str]], *, blend: float = 0.0) -> NaiveBayes:
    """Train on (text, category) pairs (unknown categories are skipped), plus the lexicon."""
    counts = Counts()
    for text, category in examples:
        if category in _INDEX:
            counts.add(features(text), _INDEX[category])
    return train_counts(counts, blend=blend)
