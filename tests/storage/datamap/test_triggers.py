"""A unit moved while hours are being credited in it: the data map's counters still equal a recount.

PostgreSQL only (SQLite runs one writer at a time). The crediting transaction has written its
deltas through the unit's old ancestors and not committed yet when the move starts; the move
waits for it (and holds new writers back), so the deltas are carried to the new ancestors with
the rest of the subtree's totals.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update

from storage.models import OrgUnit
from storage.tasks.hours import credit_hours
from tests.storage.datamap.test_figures import _assert_equal


async def test_a_unit_moved_while_hours_are_credited_in_it_keeps_the_counters_exact(chat, sessions, clock) -> None:
    async with sessions() as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("concurrent writers: PostgreSQL")
        units = {u.code: u.id for u in (await s.execute(select(OrgUnit))).scalars()}
    volunteer = chat.ids["钱志愿"]  # at home in PL (蓬莱社区), under CG (城关街道)

    crediting = sessions()
    s1 = await crediting.__aenter__()
    try:
        await credit_hours(session=s1, volunteer_id=volunteer, hours=Decimal("2.5"), source_type="manual",
                           source_id=1, now=clock.now())
        await s1.flush()  # its deltas are written through PL's ancestors of now: CG, BP, LN

        async def move() -> None:
            async with sessions() as s2:
                await s2.execute(update(OrgUnit).where(OrgUnit.id == units["PL"]).values(parent_id=units["TJ"]))
                await s2.commit()

        moving = asyncio.create_task(move())
        for _ in range(500):  # the move waits for the crediting transaction
            async with sessions() as probe:
                waiting = (await probe.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"))).scalar_one()
            if waiting or moving.done():
                break
            await asyncio.sleep(0.01)
        await s1.commit()
    finally:
        await crediting.__aexit__(None, None, None)
    await asyncio.wait_for(moving, 30)
    await _assert_equal(sessions)
