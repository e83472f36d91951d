"""Telling people about a task set-based: a team in two statements, a handful of people in one.

The same messages `handlers.core.notify.Notifier` writes one person at a time (a team's
groups first, then each member who takes direct messages; everyone on their preferred
account), as INSERT … SELECT — so an escalation tick that offers hundreds of tasks to teams
of sixty costs two statements a team and one for the admins and the villager, not a query
and an insert per person (bench/escalation.py). The statements are built once per database
dialect, with bound parameters: building them is most of the cost of a small one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    String,
    bindparam,
    func,
    insert,
    literal,
    null,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.messaging.reach import reachable_group
from storage.models import (
    OutboxMessage,
    Person,
    Team,
    TeamGroup,
    TeamMember,
    UTCDateTime,
)
from storage.scheduling.addressing import with_preferred_account
from storage.sql import rowcount

COLUMNS = ["person_id", "team_id", "platform", "address", "recipient_label", "text", "buttons", "kind", "ref",
           "status", "attempts", "created_at"]

_built: dict[tuple[str, str], Any] = {}


def _fixed() -> tuple[Any, ...]:
    """The columns every message shares, as bound parameters (text, buttons, ref, now)."""
    return (bindparam("text", type_=String()), bindparam("buttons", type_=JSON()), literal("notice", String()),
            bindparam("ref", type_=String()), literal("pending", String()), literal(0, Integer()),
            bindparam("now", type_=UTCDateTime()))


def _statement(session: AsyncSession, name: str) -> Any:
    """One of the three INSERT … SELECT statements, built once for the session's dialect."""
    dialect = session.bind.dialect.name if session.bind is not None else ""
    key = (dialect, name)
    if key not in _built:
        if name == "groups":
            stmt = (select(null(), TeamGroup.team_id, TeamGroup.platform, TeamGroup.chat_id,
                           func.coalesce(TeamGroup.title, Team.name), *_fixed())
                    .select_from(TeamGroup).join(Team, Team.id == TeamGroup.team_id)
                    .where(TeamGroup.team_id == bindparam("team_id"), reachable_group()).order_by(TeamGroup.id))
        elif name == "members":
            stmt = with_preferred_account(session, (
                select(Person.id, null(), Person.name, *_fixed())
                .select_from(TeamMember).join(Person, Person.id == TeamMember.person_id)
                .where(TeamMember.team_id == bindparam("team_id"), Person.dm_opt_in.is_(True),
                       Person.id.not_in(bindparam("exclude", expanding=True)))
                .order_by(Person.id)), at=2)
        else:
            stmt = with_preferred_account(session, (
                select(Person.id, null(), Person.name, *_fixed())
                .where(Person.id.in_(bindparam("people", expanding=True))).order_by(Person.id)), at=2)
        # The table, not the mapped class: with parameters, an ORM insert would be read as a bulk insert.
        _built[key] = insert(OutboxMessage.__table__).from_select(COLUMNS, stmt)
    return _built[key]


async def enqueue_team_offer(session: AsyncSession, *, team_id: int, text: str, buttons: list[dict[str, str]],
                             ref: str, now: datetime, exclude_person_ids: Sequence[int] = ()) -> int:
    """Owe a team's groups and its opted-in members (but `exclude_person_ids`) a message; returns how many."""
    params = {"team_id": team_id, "text": text, "buttons": buttons, "ref": ref, "now": now,
              "exclude": list(exclude_person_ids) or [0]}
    count = rowcount(await session.execute(_statement(session, "groups"), params))
    return count + rowcount(await session.execute(_statement(session, "members"), params))


async def enqueue_to_people(session: AsyncSession, *, person_ids: Sequence[int], text: str, now: datetime,
                            ref: str | None = None) -> int:
    """Owe each of these people the same direct message, on their preferred account; returns how many."""
    if not person_ids:
        return 0
    params = {"people": sorted(set(person_ids)), "text": text, "buttons": [], "ref": ref, "now": now}
    return rowcount(await session.execute(_statement(session, "people"), params))
