"""A firing's own rows: opening it, the units it covers, its text, its sent-log rows, and how many it reached.

A firing (job, period, scope) is opened first, in the transaction of its fan-out
(`storage.scheduling.fanout`): its unique key lets only one transaction fan out a scope, and
its presence afterwards means "done".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, update

from storage.db import Session
from storage.models.scheduling import ScheduleFiring, ScheduleFiringUnit, ScheduleSend
from storage.sql import insert_ignoring


async def open_firing(
    session: Session,
    *,
    job: str,
    period: str,
    scope: str,
    due_at: datetime,
    now: datetime,
    unit_id: int | None = None,
    text: str = "",
    fence_token: int | None = None,
) -> int | None:
    """Record that this transaction fans out (job, period, scope); None if that was done already.

    On PostgreSQL a concurrent transaction opening the same firing waits on the unique key
    and then finds it taken, so two workers never both fan out one scope.
    """
    stmt = insert_ignoring(session, ScheduleFiring).values(
        job=job, period=period, scope=scope, unit_id=unit_id, due_at=due_at, fired_at=now, text=text,
        fence_token=fence_token, recipients=0,
    ).returning(ScheduleFiring.id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def cover_units(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    """Name the org units regional firings cover: (firing id, unit id) pairs, in one bulk insert."""
    rows = [{"firing_id": f, "unit_id": u} for f, u in pairs]
    if rows:
        await session.execute(insert(ScheduleFiringUnit), rows)


async def sent_by(session: Session, job: str, firing_ids: Sequence[int]) -> Any:
    """A condition selecting the sent-log rows of some firings of a job.

    Spelled out as the key's (job, period) range plus the firing ids, with the periods as
    literals: joined on the firing instead, planners walk the whole period once per firing.
    """
    ids = list(firing_ids)
    periods = sorted(set((await session.execute(
        select(ScheduleFiring.period).where(ScheduleFiring.id.in_(ids)))).scalars()))
    return and_(ScheduleSend.job == job, ScheduleSend.period.in_(periods), ScheduleSend.firing_id.in_(ids))


async def set_recipients(session: Session, firing_id: int, count: int) -> None:
    """Store how many messages a firing enqueued."""
    await session.execute(update(ScheduleFiring).where(ScheduleFiring.id == firing_id).values(recipients=count))


async def fired_scopes(session: Session, job: str, periods: Sequence[str]) -> set[tuple[str, str]]:
    """The (period, scope) pairs of a job already fired for the given periods."""
    if not periods:
        return set()
    rows = await session.execute(
        select(ScheduleFiring.period, ScheduleFiring.scope)
        .where(ScheduleFiring.job == job, ScheduleFiring.period.in_(sorted(set(periods))))
    )
    return {(p, s) for p, s in rows}


async def set_firing_texts(session: Session, texts: Mapping[int, str]) -> None:
    """Store each firing's one message (firing id → text), in one executemany."""
    if not texts:
        return
    table = ScheduleFiring.__table__
    await session.execute(update(table).where(table.c.id == bindparam("fid")).values(text=bindparam("text")),
                          [{"fid": fid, "text": text} for fid, text in texts.items()])


async def record_recipients(session: Session, job: str, firing_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Count each firing's sent-log rows as (groups, people), store the total on the firing, and return them."""
    if not firing_ids:
        return {}
    rows = (await session.execute(
        select(ScheduleSend.firing_id, ScheduleSend.target_type, func.count())
        .where(await sent_by(session, job, firing_ids)).group_by(ScheduleSend.firing_id, ScheduleSend.target_type)
    )).all()
    counts: dict[int, tuple[int, int]] = {}
    for fid, kind, n in rows:
        groups, people = counts.get(int(fid), (0, 0))
        counts[int(fid)] = (groups + n, people) if kind == "group" else (groups, people + n)
    if counts:
        table = ScheduleFiring.__table__
        await session.execute(update(table).where(table.c.id == bindparam("fid")).values(recipients=bindparam("n")),
                              [{"fid": fid, "n": g + p} for fid, (g, p) in counts.items()])
    return counts
