"""Trained models kept as bytes: the newest is in use, a few older ones are kept."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from storage.intake.models import (
    KEEP,
    latest_model_id,
    latest_model_info,
    model_data,
    save_model,
)

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=timezone(timedelta(hours=8)))


async def _save(session, n: int) -> int:
    return await save_model(session, data=bytes([n]) * 10, format="test", trained_at=NOW + timedelta(days=n),
                            examples=n, last_example_id=n, blend=0.3, lexicon_accuracy=0.9, blended_accuracy=0.95)


async def test_the_newest_model_is_in_use(session) -> None:
    assert await latest_model_id(session) is None and await latest_model_info(session) is None
    first = await _save(session, 1)
    second = await _save(session, 2)
    await session.commit()
    assert await latest_model_id(session) == second
    info = await latest_model_info(session)
    assert info is not None and (info.examples, info.size, info.blend, info.format) == (2, 10, 0.3, "test")
    assert info.trained_at == NOW + timedelta(days=2)
    assert await model_data(session, first) == bytes([1]) * 10


async def test_only_the_newest_few_are_kept(session) -> None:
    ids = [await _save(session, n) for n in range(KEEP + 3)]
    await session.commit()
    kept = [i for i in ids if await model_data(session, i) is not None]
    assert kept == ids[-KEEP:]
