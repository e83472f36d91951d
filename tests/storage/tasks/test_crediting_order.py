"""Two confirmations crediting the same volunteers cannot deadlock: row locks are taken in one order.

PostgreSQL only (SQLite has one writer). A third transaction holds the first volunteer's points
account, so both confirmations queue on it — task 1 first, task 2 (whose volunteers accepted in
the opposite order) second. Crediting in assignment order, task 2 would already hold the second
volunteer's account, and when the lock is let go task 1 and task 2 would wait for each other.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from storage.models import HoursEntry, OrgUnit, Person, PointsAccount, Task, Team
from storage.programmes.points import ensure_account
from storage.tasks.transitions import AcceptResult, accept_task, close_task, complete_task, create_task, offer_task


async def _task(s, clock, unit: OrgUnit, team: Team, resident: Person, order: list[int]) -> int:
    task = await create_task(session=s, resident_id=resident.id, created_by_id=resident.id, org_unit_id=unit.id,
                             category="其他", description="帮忙", now=clock.now(), volunteers_needed=len(order))
    assert await offer_task(session=s, task_id=task.id, team_ids=[team.id], level="station", now=clock.now(),
                            window=None)
    for vid in order:
        assert await accept_task(session=s, task_id=task.id, volunteer_id=vid, team_id=team.id,
                                 now=clock.now()) is AcceptResult.won
    assert await complete_task(session=s, task_id=task.id, volunteer_id=order[0], hours=Decimal(2), now=clock.now())
    return task.id


async def _waiting_on_locks(sessions) -> int:
    async with sessions() as s:
        return int((await s.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ))).scalar_one())


async def test_crediting_the_same_volunteers_in_opposite_order_does_not_deadlock(sessions, clock) -> None:
    async with sessions() as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("row locks: PostgreSQL")
        unit = OrgUnit(code="S", name="站", level="station", path="")
        s.add(unit)
        await s.flush()
        unit.path = f"/{unit.id}/"
        team = Team(code="T", name="队", org_unit_id=unit.id, categories="|其他|", invite_code="T1")
        resident = Person(name="居民", created_at=clock.now())
        a, b = Person(name="甲", created_at=clock.now()), Person(name="乙", created_at=clock.now())
        s.add_all([team, resident, a, b])
        await s.flush()
        first = await _task(s, clock, unit, team, resident, [a.id, b.id])
        second = await _task(s, clock, unit, team, resident, [b.id, a.id])
        for person in (a, b):
            await ensure_account(session=s, person_id=person.id, now=clock.now())
        await s.commit()
        low = min(a.id, b.id)

    async def confirm(task_id: int) -> bool:
        async with sessions() as s:
            await s.execute(text("SET LOCAL deadlock_timeout = '100ms'"))
            ok = await close_task(session=s, task_id=task_id, now=clock.now(), rating=5)
            await s.commit()
            return ok

    async with sessions() as holder:
        await holder.execute(select(PointsAccount).where(PointsAccount.person_id == low).with_for_update())
        one = asyncio.create_task(confirm(first))
        while await _waiting_on_locks(sessions) < 1:
            await asyncio.sleep(0.01)
        two = asyncio.create_task(confirm(second))
        while await _waiting_on_locks(sessions) < 2:
            await asyncio.sleep(0.01)
        await holder.commit()
    assert await asyncio.wait_for(asyncio.gather(one, two), 30) == [True, True]
    async with sessions() as s:
        assert (await s.execute(select(func.count(HoursEntry.id)))).scalar_one() == 4
        assert {t.status for t in (await s.execute(select(Task))).scalars()} == {"closed"}
