"""Task transitions are atomic: racing callers cannot both win, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from storage.models import HoursEntry, OrgUnit, Person, Task, TaskAssignment, Team
from storage.tasks.transitions import (
    AcceptResult,
    accept_task,
    cancel_task,
    close_task,
    complete_task,
    create_task,
    offer_task,
    release_task,
)


async def _setup(sessions, clock, volunteers: int, needed: int) -> tuple[int, list[int], int]:
    async with sessions() as s:
        unit = OrgUnit(code="S", name="站", level="station", path="")
        s.add(unit)
        await s.flush()
        unit.path = f"/{unit.id}/"
        team = Team(code="T", name="队", org_unit_id=unit.id, categories="|其他|", invite_code="T1")
        resident = Person(name="居民", created_at=clock.now())
        people = [Person(name=f"v{i}", created_at=clock.now()) for i in range(volunteers)]
        s.add_all([team, resident, *people])
        await s.flush()
        task = await create_task(session=s, resident_id=resident.id, created_by_id=resident.id, org_unit_id=unit.id,
                                 category="其他", description="帮忙", now=clock.now(), volunteers_needed=needed)
        assert await offer_task(session=s, task_id=task.id, team_ids=[team.id], level="station",
                                now=clock.now(), window=None)
        await s.commit()
        return task.id, [p.id for p in people], team.id


async def test_fifty_simultaneous_accepts_two_places_exactly_two_win(sessions, clock) -> None:
    task_id, people, team_id = await _setup(sessions, clock, volunteers=50, needed=2)

    async def accept(vid: int) -> AcceptResult:
        async with sessions() as s:
            result = await accept_task(session=s, task_id=task_id, volunteer_id=vid, team_id=team_id, now=clock.now())
            await s.commit()
            return result

    results = await asyncio.gather(*(accept(v) for v in people))
    counts = Counter(results)
    assert counts[AcceptResult.won] == 2
    assert counts[AcceptResult.taken] == 48
    async with sessions() as s:
        task = await s.get(Task, task_id)
        assert task.status == "accepted" and task.accepted_count == 2
        active = (await s.execute(select(func.count()).where(TaskAssignment.active.is_(True)))).scalar_one()
        assert active == 2


async def test_same_volunteer_pressing_twice_at_once_counts_once(sessions, clock) -> None:
    task_id, people, team_id = await _setup(sessions, clock, volunteers=1, needed=2)

    async def accept() -> AcceptResult:
        async with sessions() as s:
            r = await accept_task(session=s, task_id=task_id, volunteer_id=people[0], team_id=team_id, now=clock.now())
            await s.commit()
            return r

    results = await asyncio.gather(*(accept() for _ in range(10)))
    assert Counter(results)[AcceptResult.won] == 1
    async with sessions() as s:
        task = await s.get(Task, task_id)
        assert task.accepted_count == 1 and task.status == "dispatched"


async def test_release_complete_close_are_conditional(sessions, clock) -> None:
    task_id, people, team_id = await _setup(sessions, clock, volunteers=2, needed=1)
    a, b = people
    async with sessions() as s:
        assert await accept_task(session=s, task_id=task_id, volunteer_id=a, team_id=team_id, now=clock.now()) is AcceptResult.won
        assert not await release_task(session=s, task_id=task_id, volunteer_id=b, now=clock.now())
        assert await release_task(session=s, task_id=task_id, volunteer_id=a, now=clock.now())
        assert not await release_task(session=s, task_id=task_id, volunteer_id=a, now=clock.now())
        assert await accept_task(session=s, task_id=task_id, volunteer_id=b, team_id=team_id, now=clock.now()) is AcceptResult.won
        assert not await complete_task(session=s, task_id=task_id, volunteer_id=a, hours=Decimal(1), now=clock.now())
        assert await complete_task(session=s, task_id=task_id, volunteer_id=b, hours=Decimal("1.5"), now=clock.now())
        assert not await cancel_task(session=s, task_id=task_id, now=clock.now(), by_admin=True)
        assert await close_task(session=s, task_id=task_id, now=clock.now(), rating=5)
        assert not await close_task(session=s, task_id=task_id, now=clock.now(), rating=4)
        await s.commit()
        rows = (await s.execute(select(HoursEntry))).scalars().all()
        assert [(r.volunteer_id, r.hours) for r in rows] == [(b, Decimal("1.5"))]


async def test_concurrent_confirmations_credit_hours_once(sessions, clock) -> None:
    task_id, people, team_id = await _setup(sessions, clock, volunteers=1, needed=1)
    async with sessions() as s:
        await accept_task(session=s, task_id=task_id, volunteer_id=people[0], team_id=team_id, now=clock.now())
        await complete_task(session=s, task_id=task_id, volunteer_id=people[0], hours=Decimal(2), now=clock.now())
        await s.commit()

    async def confirm() -> bool:
        async with sessions() as s:
            ok = await close_task(session=s, task_id=task_id, now=clock.now())
            await s.commit()
            return ok

    assert sum(await asyncio.gather(*(confirm() for _ in range(10)))) == 1
    async with sessions() as s:
        assert (await s.execute(select(func.sum(HoursEntry.hours)))).scalar_one() == 2


async def test_an_escalation_is_a_compare_and_set_on_the_window(sessions, clock) -> None:
    """Escalation and dispatch share `offer_task`: with `due_at`, racing ticks move the task once."""
    from datetime import timedelta

    from storage.models import TaskOffer

    async with sessions() as s:
        station = OrgUnit(code="S", name="站", level="station", path="")
        institute = OrgUnit(code="I", name="所", level="institute", path="")
        s.add_all([station, institute])
        await s.flush()
        station.path, institute.path = f"/{station.id}/", f"/{institute.id}/"
        low = Team(code="L", name="站队", org_unit_id=station.id, categories="|其他|", invite_code="L1")
        high = Team(code="H", name="所队", org_unit_id=institute.id, categories="|其他|", invite_code="H1")
        resident = Person(name="居民", created_at=clock.now())
        s.add_all([low, high, resident])
        await s.flush()
        task = await create_task(session=s, resident_id=resident.id, created_by_id=resident.id,
                                 org_unit_id=station.id, category="其他", description="帮忙", now=clock.now())
        assert await offer_task(session=s, task_id=task.id, team_ids=[low.id], level="station", now=clock.now(),
                                window=timedelta(hours=2))
        await s.commit()
        task_id, teams = task.id, (low.id, high.id)
        first = clock.now()
    async with sessions() as s:
        due = (await s.get(Task, task_id)).escalate_at
    clock.advance(hours=2)

    async def tick() -> bool:
        async with sessions() as s:
            ok = await offer_task(session=s, task_id=task_id, team_ids=[teams[1]], level="institute",
                                  now=clock.now(), window=timedelta(hours=4), due_at=due)
            await s.commit()
            return ok

    assert sum(await asyncio.gather(*(tick() for _ in range(5)))) == 1
    async with sessions() as s:
        task = await s.get(Task, task_id)
        assert (task.dispatch_level, task.status) == ("institute", "dispatched")
        assert task.escalate_at == clock.now() + timedelta(hours=4)
        assert task.dispatched_at == first  # the first dispatch stays on record
        offers = (await s.execute(select(TaskOffer.team_id).where(TaskOffer.task_id == task_id)
                                  .order_by(TaskOffer.id))).scalars().all()
        assert offers == list(teams)  # the station's team keeps its offer
        # A tick that read the old window finds the task moved, and changes nothing.
        assert not await offer_task(session=s, task_id=task_id, team_ids=[], level="center", now=clock.now(),
                                    window=timedelta(hours=24), due_at=due)
