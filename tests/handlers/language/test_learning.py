"""Learning from use: the naive Bayes model, choosing its weight by cross-validation, storing and using it."""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from handlers.language.bayes import NaiveBayes, features, train
from handlers.language.learning import (
    BLEND_GRID,
    current_model,
    fit,
    forget_model,
    lexicon_guess,
    retrain,
)
from handlers.language.request_parser import parse_request
from scheduler.job import JobRun
from scheduler.jobs.intake import NIGHTLY_RETRAIN_JOB
from storage.intake.examples import record_example
from storage.intake.models import latest_model_info

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=timezone(timedelta(hours=8)))
CORPUS = Path(__file__).parent / "data" / "villager_messages.csv"

# Livestock the lexicon does not know, said as farmers say it: the model must learn these.
_ANIMALS = ("驴", "骡子", "马驹子", "毛驴", "大骡子")
_TROUBLES = ("尥蹶子", "不吃草了", "腿瘸了", "肚子胀", "趴窝了", "直打响鼻", "蹄子烂了")


def corpus_requests() -> list[tuple[str, str]]:
    with CORPUS.open(encoding="utf-8") as f:
        return [(r["text"], r["category"]) for r in csv.DictReader(f) if r["kind"] == "request"]


def unknown_words_examples(n: int = 60, seed: int = 3) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [(f"俺家{rng.choice(_ANIMALS)}{rng.choice(_TROUBLES)}", "农业技术") for _ in range(n)]


@pytest.fixture(autouse=True)
def _no_cached_model() -> None:
    forget_model()
    yield
    forget_model()


def test_features_are_character_ngrams() -> None:
    assert {"驴", "毛驴", "俺家毛"} <= set(features("俺家毛驴"))
    assert features("") == ()


def test_a_model_round_trips_through_bytes() -> None:
    model = train(corpus_requests()[:50], blend=0.3)
    again = NaiveBayes.from_bytes(model.to_bytes())
    text = "俺家猪不吃食"
    assert again.blend == 0.3 and again.examples == 50
    assert again.probabilities(text) == pytest.approx(model.probabilities(text))


def test_unreadable_or_foreign_models_are_refused() -> None:
    with pytest.raises(ValueError):
        NaiveBayes.from_bytes(b"not a model")
    import json
    import zlib

    with pytest.raises(ValueError):
        NaiveBayes.from_bytes(zlib.compress(json.dumps({"format": "other"}).encode()))


def test_few_examples_are_not_trusted() -> None:
    fitted = fit(corpus_requests()[:10])
    assert fitted.folds == 0 and fitted.model.blend == 0.0 and fitted.blended_accuracy is None


def test_on_the_corpus_the_lexicon_is_kept_when_the_model_does_not_help() -> None:
    fitted = fit(corpus_requests())
    assert set(fitted.by_blend) == set(BLEND_GRID)
    assert fitted.lexicon_accuracy is not None and fitted.lexicon_accuracy >= 0.95
    assert fitted.blended_accuracy == max(fitted.by_blend.values())
    assert fitted.blended_accuracy >= fitted.lexicon_accuracy


def test_words_the_lexicon_lacks_are_learned() -> None:
    unknown = "俺家骡子趴窝了"
    assert lexicon_guess(unknown).category == "其他"
    fitted = fit(corpus_requests() + unknown_words_examples())
    assert fitted.model.blend > 0
    assert fitted.blended_accuracy > fitted.lexicon_accuracy  # type: ignore[operator]
    assert parse_request(unknown, NOW, model=fitted.model).category == "农业技术"
    # A keyword that names the service still wins over what the model learned.
    assert parse_request("俺家驴的事想请律师打官司", NOW, model=fitted.model).category == "法律服务"
    learned = fitted.model.learned_words()["农业技术"]
    assert any("驴" in w or "骡" in w for w in learned)


async def test_retrain_stores_the_model_every_worker_reads(sessions) -> None:
    async with sessions() as session:
        assert await current_model(session) is None
    assert await retrain(sessions, NOW) is None  # nothing to learn yet
    async with sessions() as session:
        for text, category in corpus_requests()[:40] + unknown_words_examples(30):
            await record_example(session, text=text, category=category, source="confirmed", now=NOW)
        await session.commit()
    done = await retrain(sessions, NOW)
    assert done is not None and done.fitted.examples == 70
    forget_model()  # as another worker, which has never seen it
    async with sessions() as session:
        model = await current_model(session)
        info = await latest_model_info(session)
    assert model is not None and info is not None and info.id == done.model_id
    assert model.blend == done.fitted.model.blend and info.examples == 70
    assert await retrain(sessions, NOW) is None  # nothing new since
    assert await retrain(sessions, NOW, force=True) is not None


async def test_the_nightly_job_trains_once_a_night(sessions) -> None:
    tz = timezone(timedelta(hours=8))
    async with sessions() as session:
        for text, category in corpus_requests()[:40]:
            await record_example(session, text=text, category=category, source="confirmed", now=NOW)
        await session.commit()
    night = datetime(2026, 11, 29, 3, 5, tzinfo=tz)
    assert await NIGHTLY_RETRAIN_JOB.run(sessions, JobRun(now=night, tz=tz)) == 1
    assert await NIGHTLY_RETRAIN_JOB.run(sessions, JobRun(now=night + timedelta(hours=2), tz=tz)) == 0
    async with sessions() as session:
        first = await latest_model_info(session)
        await record_example(session, text="俺家驴尥蹶子", category="农业技术", source="corrected", now=night)
        await session.commit()
    assert await NIGHTLY_RETRAIN_JOB.run(sessions, JobRun(now=night + timedelta(hours=5), tz=tz)) == 0  # not yet
    assert await NIGHTLY_RETRAIN_JOB.run(sessions, JobRun(now=night + timedelta(days=1), tz=tz)) == 1
    async with sessions() as session:
        second = await latest_model_info(session)
    assert first is not None and second is not None and second.id != first.id and second.examples == 41
    # A night with nothing new stores nothing.
    assert await NIGHTLY_RETRAIN_JOB.run(sessions, JobRun(now=night + timedelta(days=2), tz=tz)) == 0
