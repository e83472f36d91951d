"""Learning the categories from use: train on the stored examples, keep the model, use the newest.

`fit` trains a naive Bayes model on labelled requests and decides, by k-fold cross-validation,
how much the blend with the lexicon should trust it: the blend weight that classified the
held-out examples best (0 — the lexicon alone — unless the model measurably helps). `retrain`
does that with the database's examples and stores the model (the nightly job and `xinfeng
intake retrain`); `current_model` gives every worker the newest stored model, checking for a
newer one at most once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from handlers.language.bayes import FORMAT, Counts, NaiveBayes, features, train_counts
from handlers.language.categories import CategoryGuess, blended_category, guess_category
from handlers.language.lexicon import CATEGORIES
from handlers.language.nlp import words as jieba_words
from handlers.language.textnorm import normalize
from storage.db import Session, Sessions
from storage.intake.examples import newest_example_id, training_examples
from storage.intake.models import (
    latest_model_id,
    latest_model_info,
    model_data,
    save_model,
)

__all__ = ["Fitted", "Retrained", "Training", "current_model", "fit", "forget_model", "install_model", "lexicon_guess", "retrain", "store_fitted", "training_due"]

log = logging.getLogger(__name__)

BLEND_GRID = (0.0, 0.15, 0.3, 0.5, 0.7, 0.9)
MIN_EXAMPLES = 30  # fewer cannot show that the model helps: it is stored with blend 0
FOLDS = 5
REFRESH_SECONDS = 60.0  # how often a worker looks for a newer stored model
_INDEX = {c: i for i, c in enumerate(CATEGORIES)}


@dataclass(frozen=True)
class Fitted:
    """A trained model and what cross-validation measured (None: too few examples to measure)."""

    model: NaiveBayes
    examples: int
    folds: int
    lexicon_accuracy: float | None = None
    model_accuracy: float | None = None
    blended_accuracy: float | None = None
    by_blend: dict[float, float] = field(default_factory=dict)
    seconds: float = 0.0


def lexicon_guess(text: str) -> CategoryGuess:
    """The lexicon's ranked guess for raw `text`."""
    lowered = normalize(text).lower()
    return guess_category(lowered, [w for w, _, _, _ in jieba_words(lowered)])


def fit(examples: Sequence[tuple[str, str]], *, folds: int = FOLDS, seed: int = 11) -> Fitted:
    """Train on (text, category) pairs and choose the blend weight by cross-validation.

    One training serves every fold: each fold's model is the whole one less the fold's own
    examples (`NaiveBayes.without`), so k-fold costs little more than one training.
    """
    started = time.perf_counter()
    rows = [(features(t), _INDEX[c], t) for t, c in examples if c in _INDEX]
    counts, held_out = Counts(), [Counts() for _ in range(folds)]
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    fold_of = [0] * len(rows)
    for n, i in enumerate(order):
        fold_of[i] = n % folds
    cross_validate = len(rows) >= max(MIN_EXAMPLES, folds)
    for i, (feats, ci, _) in enumerate(rows):
        counts.add(feats, ci)
        if cross_validate:
            held_out[fold_of[i]].add(feats, ci)
    whole = train_counts(counts)
    if not cross_validate:
        return Fitted(whole, len(rows), 0, seconds=time.perf_counter() - started)
    right = dict.fromkeys(BLEND_GRID, 0)
    model_right = 0
    for h in held_out:
        h.keep_only(whole.counts)
    fold_models = [whole.without(h) for h in held_out]
    for i, (feats, ci, text) in enumerate(rows):
        # Seen by a model that was not trained on it: the lexicon's guess and the model's.
        category = CATEGORIES[ci]
        probs = fold_models[fold_of[i]].probabilities_of(feats)
        model_right += max(probs, key=probs.__getitem__) == category
        guess = lexicon_guess(text)
        for w in BLEND_GRID:
            right[w] += blended_category(guess, probs, w) == category
    n = len(rows)
    by_blend = {w: right[w] / n for w in BLEND_GRID}
    # The smallest weight among the best: the lexicon is trusted unless the model does better.
    chosen = max(BLEND_GRID, key=lambda w: (right[w], -w))
    whole.blend = chosen
    return Fitted(whole, n, folds, by_blend[0.0], model_right / n, by_blend[chosen], by_blend,
                  time.perf_counter() - started)


@dataclass
class _Cache:
    model_id: int | None = None
    model: NaiveBayes | None = None
    checked: float = float("-inf")


_cache = _Cache()


def install_model(model_id: int | None, model: NaiveBayes | None) -> None:
    """Use this model in this process from now on (after training it here)."""
    _cache.model_id, _cache.model, _cache.checked = model_id, model, time.monotonic()


def forget_model() -> None:
    """Drop the cached model, so the next `current_model` reads the database again."""
    install_model(None, None)
    _cache.checked = float("-inf")


async def current_model(session: Session) -> NaiveBayes | None:
    """The newest stored model (None before the first training), re-checked at most once a minute."""
    if time.monotonic() - _cache.checked < REFRESH_SECONDS:
        return _cache.model
    latest = await latest_model_id(session)
    if latest != _cache.model_id:
        model = None
        data = await model_data(session, latest) if latest is not None else None
        if data is not None:
            try:
                model = NaiveBayes.from_bytes(data)
            except ValueError:
                # A model from another version (other categories): the lexicon alone until retrained.
                log.warning("intake model %s cannot be read; using the lexicon alone", latest)
        install_model(latest, model)
    else:
        _cache.checked = time.monotonic()
    return _cache.model


@dataclass(frozen=True)
class Training:
    """What a training reads: the examples, the newest one's id, and when the model in use was trained."""

    examples: list[tuple[str, str]]
    newest_id: int


async def training_due(session: Session, *, force: bool = False) -> Training | None:
    """The examples to train on; None when there are none, or (unless `force`) none new since the last model."""
    newest = await newest_example_id(session)
    if newest is None:
        return None
    info = await latest_model_info(session)
    if not force and info is not None and info.last_example_id == newest:
        return None
    return Training(await training_examples(session), newest)


async def store_fitted(session: Session, training: Training, fitted: Fitted, now: datetime) -> int:
    """Store a trained model as the one in use (in the caller's transaction); its id.

    After the commit, `install_model` makes this process use it at once; other workers find it
    within `REFRESH_SECONDS`.
    """
    model_id = await save_model(
        session, data=fitted.model.to_bytes(), format=FORMAT, trained_at=now, examples=fitted.examples,
        last_example_id=training.newest_id, blend=fitted.model.blend, lexicon_accuracy=fitted.lexicon_accuracy,
        blended_accuracy=fitted.blended_accuracy)
    return model_id


@dataclass(frozen=True)
class Retrained:
    """A model trained and stored: its id and what cross-validation measured."""

    model_id: int
    fitted: Fitted


async def retrain(sessions: Sessions, now: datetime, *, force: bool = False) -> Retrained | None:
    """Read the examples, train, and store the model: None if there was nothing (new) to learn.

    Three steps, so that no transaction stays open while the model trains (in a thread, so the
    worker keeps answering messages): on SQLite an open transaction holds the write lock.
    """
    async with sessions() as session:
        training = await training_due(session, force=force)
    if training is None:
        return None
    fitted = await asyncio.to_thread(fit, training.examples)
    async with sessions() as session:
        model_id = await store_fitted(session, training, fitted, now)
        await session.commit()
    install_model(model_id, fitted.model)
    return Retrained(model_id, fitted)
