"""Addressing scheduled messages in SQL: each person's preferred chat account, the reachable one seen last.

The same choice as `storage.messaging.outbox.preferred_identity` makes for one person, spelled
as a join so that a fan-out addresses a province's people in the statement that enqueues them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import ChannelIdentity, Person


def preferred_identity_id(person_id: Any) -> Any:
    """A scalar subquery: the id of a person's preferred chat account (reachable, seen last)."""
    ci = aliased(ChannelIdentity)
    return (
        select(ci.id)
        .where(ci.person_id == person_id, ci.reachable.is_(True))
        .order_by(ci.last_seen_at.desc().nulls_last(), ci.id.desc())
        .limit(1)
        .correlate_except(ci)
        .scalar_subquery()
    )


def with_preferred_account(session: AsyncSession, stmt: Select[Any], at: int) -> Select[Any]:
    """Insert (platform, address) of each row's person's preferred account at column `at`.

    PostgreSQL gets a LATERAL join (one index probe per person); its planner turns the portable
    form — a correlated subquery in the join condition — into a hash join that re-runs the
    subquery per candidate, minutes at a province's scale. SQLite has no LATERAL, and runs the
    portable form as one index probe per person anyway.
    """
    cols = list(stmt.selected_columns)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        ci = aliased(ChannelIdentity)
        pref = (select(ci.platform, ci.external_id)
                .where(ci.person_id == Person.id, ci.reachable.is_(True))
                .order_by(ci.last_seen_at.desc().nulls_last(), ci.id.desc()).limit(1).lateral("pref"))
        return stmt.outerjoin(pref, true()).with_only_columns(*cols[:at], pref.c.platform, pref.c.external_id,
                                                              *cols[at:])
    ident = aliased(ChannelIdentity)
    return stmt.outerjoin(ident, ident.id == preferred_identity_id(Person.id)).with_only_columns(
        *cols[:at], ident.platform, ident.external_id, *cols[at:])
