"""Every domain action leaves its audit row.

Each feature's test package has a `scenarios.py` whose `SCENARIOS` maps an action's audit
name to a short conversation (on the chat harness's small county) that makes the action run.
This test requires a scenario for every registered action and checks that, once it has run,
the audit log holds a row for that action — so a new action cannot forget its audit row, and
cannot go without a scenario either.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select

from handlers.app import build_dispatcher
from handlers.core.act import ACTIONS
from storage.models import AuditEntry

build_dispatcher()  # imports every feature, so every action is registered

FEATURES = ["tasks", "activities", "programmes", "datamap", "people"]

Scenario = Callable[..., Awaitable[None]]


def _scenarios() -> dict[str, Scenario]:
    found: dict[str, Scenario] = {}
    for feature in FEATURES:
        try:
            module = importlib.import_module(f"tests.handlers.{feature}.scenarios")
        except ModuleNotFoundError:
            continue
        for name, scenario in module.SCENARIOS.items():
            assert name not in found, f"two scenarios for {name!r}"
            found[name] = scenario
    return found


SCENARIOS = _scenarios()


def test_every_action_has_a_scenario() -> None:
    assert sorted(set(ACTIONS) - set(SCENARIOS)) == []
    assert sorted(set(SCENARIOS) - set(ACTIONS)) == []


@pytest.mark.parametrize("action", sorted(ACTIONS))
async def test_the_action_writes_its_audit_row(action: str, chat) -> None:
    await SCENARIOS[action](chat)
    async with chat.sessions() as s:
        rows = (await s.execute(select(AuditEntry).where(AuditEntry.action == action))).scalars().all()
    assert rows, f"{action}: no audit row after its scenario"
