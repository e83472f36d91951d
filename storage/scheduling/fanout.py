"""Set-based fan-out of scheduled messages into the outbox, each target at most once per period.

A firing (job, period, scope) is opened first (`storage.scheduling.firings.open_firing`) — its
unique key lets only one transaction fan out a scope. Then the sent-log gets one row per target, `INSERT … SELECT … ON CONFLICT DO
NOTHING`, so a target already sent for this job and period is skipped by the database, and
the outbox gets one row per new sent-log row, addressed in SQL to each person's preferred
chat account (the reachable one seen last, as `storage.messaging.outbox.preferred_identity`).
No statement here loops over people in Python: a province is a handful of statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    Select,
    String,
    Subquery,
    and_,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.messaging.reach import reachable_group
from storage.models import (
    OutboxMessage,
    Person,
    Team,
    TeamGroup,
    TeamMember,
    UTCDateTime,
)
from storage.models.scheduling import ScheduleFiring, ScheduleFiringUnit, ScheduleSend
from storage.scheduling.addressing import with_preferred_account
from storage.scheduling.firings import sent_by
from storage.sql import insert_ignoring, rowcount

# A select of person ids (who a scheduled message is for), and an audience subquery of
# (person_id, firing_id) rows: the two shapes the layers above pass back in.
PersonIds = Select[Any]
Audience = Subquery

SEND_COLUMNS = ["job", "target_type", "target_id", "period", "firing_id", "sent_at"]
OUTBOX_COLUMNS = ["person_id", "team_id", "platform", "address", "recipient_label", "text", "buttons", "kind",
                  "ref", "status", "attempts", "created_at"]


def _rows(result: object) -> int:
    return rowcount(result)


def _now(now: datetime) -> Any:
    return literal(now, UTCDateTime())


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else ""


async def prepare_bulk(session: AsyncSession) -> None:
    """Let this transaction's big joins hash and sort in memory on PostgreSQL (4 MB by default)."""
    if _dialect(session) == "postgresql":
        await session.execute(text("SET LOCAL work_mem = '64MB'"))


async def claim_region_groups(session: AsyncSession, *, job: str, firing_ids: Sequence[int], now: datetime) -> int:
    """Sent-log rows for every reachable bound group of every team in the firings' units (groups first).

    A group the bot was removed from is left out, so its members count as not reached by a
    group and get the message directly.
    """
    stmt = (
        select(literal(job, String()), literal("group", String()), TeamGroup.id, ScheduleFiring.period,
               func.min(ScheduleFiring.id), _now(now))
        .select_from(TeamGroup)
        .join(Team, Team.id == TeamGroup.team_id)
        .join(ScheduleFiringUnit, ScheduleFiringUnit.unit_id == Team.org_unit_id)
        .join(ScheduleFiring, ScheduleFiring.id == ScheduleFiringUnit.firing_id)
        .where(ScheduleFiring.id.in_(list(firing_ids)), reachable_group())
        .group_by(TeamGroup.id, ScheduleFiring.period)
    )
    return _rows(await session.execute(insert_ignoring(session, ScheduleSend).from_select(SEND_COLUMNS, stmt)))


def region_audience(firing_ids: Sequence[int]) -> Any:
    """(person_id, firing_id) of the volunteers of the firings' units: team members and home-unit volunteers."""
    ids = list(firing_ids)
    members = (
        select(TeamMember.person_id.label("person_id"), ScheduleFiringUnit.firing_id.label("firing_id"))
        .join(Team, Team.id == TeamMember.team_id)
        .join(ScheduleFiringUnit, ScheduleFiringUnit.unit_id == Team.org_unit_id)
        .where(ScheduleFiringUnit.firing_id.in_(ids))
    )
    residents = (
        select(Person.id.label("person_id"), ScheduleFiringUnit.firing_id.label("firing_id"))
        .join(ScheduleFiringUnit, ScheduleFiringUnit.unit_id == Person.org_unit_id)
        .where(ScheduleFiringUnit.firing_id.in_(ids), Person.is_volunteer.is_(True))
    )
    # UNION ALL: a person found both ways is collapsed by the claim's GROUP BY anyway.
    return union_all(members, residents).subquery("audience")


def _claim_people_stmt(session: AsyncSession, *, job: str, audience: Any, now: datetime, opted_in_only: bool,
                       skip_reached_by_group: bool) -> Any:
    conds = [ScheduleFiring.id == audience.c.firing_id]
    if opted_in_only:
        conds.append(Person.dm_opt_in.is_(True))
    if skip_reached_by_group:
        tm, sent = aliased(TeamMember), aliased(ScheduleSend)
        reached = exists().where(
            tm.person_id == audience.c.person_id,
            TeamGroup.team_id == tm.team_id,
            sent.job == job, sent.target_type == "group", sent.target_id == TeamGroup.id,
            sent.period == ScheduleFiring.period,
        )
        conds.append(~reached)
    stmt = (
        select(literal(job, String()), literal("person", String()), audience.c.person_id, ScheduleFiring.period,
               func.min(ScheduleFiring.id), _now(now))
        .select_from(audience)
        .join(Person, Person.id == audience.c.person_id)
        .join(ScheduleFiring, ScheduleFiring.id == audience.c.firing_id)
        .where(and_(*conds))
        .group_by(audience.c.person_id, ScheduleFiring.period)
    )
    return insert_ignoring(session, ScheduleSend).from_select(SEND_COLUMNS, stmt)


async def claim_people(
    session: AsyncSession,
    *,
    job: str,
    audience: Any,
    now: datetime,
    opted_in_only: bool = True,
    skip_reached_by_group: bool = True,
) -> int:
    """Sent-log rows for an audience subquery of (person_id, firing_id); one per person and period.

    Opted-in people only, unless the message is about their own commitment; and nobody a bound
    group of one of their teams already reached for this job and period — one message in the
    group reaches the whole team (PRODUCT.md §6, §10).
    """
    return _rows(await session.execute(_claim_people_stmt(
        session, job=job, audience=audience, now=now, opted_in_only=opted_in_only,
        skip_reached_by_group=skip_reached_by_group)))


async def fan_out_people(
    session: AsyncSession,
    *,
    job: str,
    firing_ids: Sequence[int],
    audience: Any,
    kind: str,
    now: datetime,
    opted_in_only: bool = True,
    skip_reached_by_group: bool = True,
) -> int:
    """Claim an audience in the sent-log (as `claim_people`) and enqueue each newly claimed person's message.

    On PostgreSQL both happen in one statement — the claim's RETURNING feeds the outbox insert
    (a data-modifying CTE), so a province's million rows are read once; elsewhere, two.
    Returns how many messages were enqueued.
    """
    if _dialect(session) != "postgresql":
        await claim_people(session, job=job, audience=audience, now=now, opted_in_only=opted_in_only,
                           skip_reached_by_group=skip_reached_by_group)
        return await enqueue_claimed(session, job=job, firing_ids=firing_ids, kind=kind, now=now, targets=("person",))
    claimed = _claim_people_stmt(
        session, job=job, audience=audience, now=now, opted_in_only=opted_in_only,
        skip_reached_by_group=skip_reached_by_group,
    ).returning(ScheduleSend.target_id, ScheduleSend.firing_id, ScheduleSend.period).cte("claimed")
    rows = with_preferred_account(
        session,
        select(Person.id, null(), Person.name, ScheduleFiring.text, literal([], JSON()), literal(kind, String()),
               literal(f"{kind}:", String()) + claimed.c.period, literal("pending", String()), literal(0, Integer()),
               _now(now))
        .select_from(claimed)
        .join(Person, Person.id == claimed.c.target_id)
        .join(ScheduleFiring, ScheduleFiring.id == claimed.c.firing_id),
        at=2,
    )
    return _rows(await session.execute(insert(OutboxMessage).from_select(OUTBOX_COLUMNS, rows).add_cte(claimed)))


async def fan_out_audiences(
    session: AsyncSession,
    *,
    job: str,
    firing_ids: Sequence[int],
    audiences: Sequence[Audience],
    kind: str,
    now: datetime,
    opted_in_only: bool = True,
    skip_reached_by_group: bool = True,
) -> int:
    """Fan out to several audiences of the same firings: one statement for one audience, else a claim each.

    A single audience (the moral day's, covering every region) takes `fan_out_people`'s
    one-statement path. Several (one per activity reminder) are each claimed in one
    statement and then enqueued together, so the statement count grows with the firings
    owed in a tick, never with the people. Returns how many messages were enqueued.
    """
    if len(audiences) == 1:
        return await fan_out_people(session, job=job, firing_ids=firing_ids, audience=audiences[0], kind=kind,
                                    now=now, opted_in_only=opted_in_only, skip_reached_by_group=skip_reached_by_group)
    for audience in audiences:
        await claim_people(session, job=job, audience=audience, now=now, opted_in_only=opted_in_only,
                           skip_reached_by_group=skip_reached_by_group)
    if not audiences:
        return 0
    return await enqueue_claimed(session, job=job, firing_ids=firing_ids, kind=kind, now=now, targets=("person",))


async def enqueue_claimed(session: AsyncSession, *, job: str, firing_ids: Sequence[int], kind: str,
                          now: datetime, targets: Sequence[str] = ("group", "person")) -> int:
    """Outbox rows for the sent-log rows of these firings (groups first), with each firing's text.

    Returns how many rows were enqueued.
    """
    sent = await sent_by(session, job, firing_ids)
    ref = literal(f"{kind}:", String()) + ScheduleFiring.period
    groups = (
        select(null(), TeamGroup.team_id, TeamGroup.platform, TeamGroup.chat_id,
               func.coalesce(TeamGroup.title, Team.name), ScheduleFiring.text, literal([], JSON()),
               literal(kind, String()), ref, literal("pending", String()), literal(0, Integer()), _now(now))
        .select_from(ScheduleSend)
        .join(ScheduleFiring, ScheduleFiring.id == ScheduleSend.firing_id)
        .join(TeamGroup, TeamGroup.id == ScheduleSend.target_id)
        .join(Team, Team.id == TeamGroup.team_id)
        .where(sent, ScheduleSend.target_type == "group")
        .order_by(TeamGroup.id)
    )
    people = with_preferred_account(
        session,
        select(Person.id, null(), Person.name, ScheduleFiring.text, literal([], JSON()), literal(kind, String()), ref,
               literal("pending", String()), literal(0, Integer()), _now(now))
        .select_from(ScheduleSend)
        .join(ScheduleFiring, ScheduleFiring.id == ScheduleSend.firing_id)
        .join(Person, Person.id == ScheduleSend.target_id)
        .where(sent, ScheduleSend.target_type == "person"),
        at=2,
    )
    count = 0
    for target, stmt in (("group", groups), ("person", people)):
        if target in targets:
            count += _rows(await session.execute(insert(OutboxMessage).from_select(OUTBOX_COLUMNS, stmt)))
    return count


async def claimed_people(session: AsyncSession, job: str, firing_id: int) -> list[tuple[int, str, str | None, str | None]]:
    """(person_id, name, platform, address) of the people a firing claimed, addressed in SQL."""
    stmt = with_preferred_account(
        session,
        select(Person.id, Person.name).select_from(ScheduleSend)
        .join(Person, Person.id == ScheduleSend.target_id)
        .where(await sent_by(session, job, [firing_id]), ScheduleSend.target_type == "person")
        .order_by(Person.id),
        at=2,
    )
    return [(int(p), n, pl, a) for p, n, pl, a in await session.execute(stmt)]


async def enqueue_each(
    session: AsyncSession,
    *,
    rows: Sequence[tuple[int, str, str | None, str | None, str]],
    kind: str,
    ref: str | None,
    now: datetime,
) -> int:
    """Outbox rows with a text of their own each: (person_id, name, platform, address, text)."""
    values = [
        {"person_id": pid, "team_id": None, "platform": platform, "address": address, "recipient_label": name,
         "text": text, "buttons": [], "kind": kind, "ref": ref, "status": "pending", "attempts": 0,
         "created_at": now}
        for pid, name, platform, address, text in rows
    ]
    if values:
        await session.execute(insert(OutboxMessage), values)
    return len(values)


def people_select(person_ids: PersonIds, firing_id: int) -> Audience:
    """Turn a select of person ids into an audience subquery for one firing."""
    inner = person_ids.subquery("ids")
    return select(inner.c[0].label("person_id"), literal(firing_id, Integer()).label("firing_id")).subquery("audience")
