"""The daily hours cap is an operator's setting (XINFENG_DAILY_HOURS_CAP), handed to every action by the engine."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from bot.runtime import build_runtime
from bot.settings import Settings
from handlers.core.act import Act
from storage.tasks.hours import DEFAULT_DAILY_CAP


def test_the_cap_defaults_to_12_and_stays_within_a_day(monkeypatch) -> None:
    monkeypatch.delenv("XINFENG_DAILY_HOURS_CAP", raising=False)
    assert Settings().daily_hours_cap == 12
    monkeypatch.setenv("XINFENG_DAILY_HOURS_CAP", "8")
    assert Settings().daily_hours_cap == 8
    for bad in ("0", "25", "很多"):
        monkeypatch.setenv("XINFENG_DAILY_HOURS_CAP", bad)
        with pytest.raises(ValidationError):
            Settings()


async def test_the_runtime_hands_the_cap_to_every_messages_act(tmp_path) -> None:
    rt = await build_runtime(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", daily_hours_cap=9.5))
    try:
        assert rt.engine.daily_cap == Decimal("9.5")
    finally:
        await rt.close()
    assert Act(session=None, now=None, tz=None).daily_cap == DEFAULT_DAILY_CAP  # type: ignore[arg-type]
