"""Labelled requests: written when a category is settled, read back to train."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from storage.intake.examples import (
    MAX_TEXT,
    example_count,
    newest_example_id,
    record_example,
    training_examples,
)

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=timezone(timedelta(hours=8)))


async def test_examples_are_recorded_and_read_back_oldest_first(session) -> None:
    assert await newest_example_id(session) is None
    first = await record_example(session, text="俺家鸡瘟了", category="农业技术", source="confirmed", now=NOW,
                                 guessed="农业技术")
    second = await record_example(session, text=" 院里雪太厚了 ", category="生活帮扶", source="corrected",
                                  now=NOW, guessed="环境整治")
    await session.commit()
    assert first is not None and second is not None and second > first
    assert await training_examples(session) == [("俺家鸡瘟了", "农业技术"), ("院里雪太厚了", "生活帮扶")]
    assert await training_examples(session, limit=1) == [("院里雪太厚了", "生活帮扶")]
    assert await newest_example_id(session) == second
    counts = await example_count(session)
    assert counts == {"total": 2, "guessed_right": 1, "confirmed": 1, "corrected": 1}


async def test_blank_long_and_unknown_examples(session) -> None:
    assert await record_example(session, text="   ", category="其他", source="confirmed", now=NOW) is None
    await record_example(session, text="长" * 5000, category="其他", source="imported", now=NOW)
    [(text, _)] = await training_examples(session)
    assert len(text) == MAX_TEXT
    with pytest.raises(ValueError):
        await record_example(session, text="x", category="其他", source="guessed", now=NOW)
