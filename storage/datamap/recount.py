"""Recounting the data map from the source tables, installing its triggers, and reading its counters.

`recount` recomputes the closure, every counter and every last-active day with GROUP BY queries
(the closure from `parent_id` by a recursive CTE, independently of the maintained one) and
returns them without changing anything; `maintained` reads what the triggers kept. The tests
compare the two after random sequences of events. `rebuild` writes the recount into the tables
(after a bulk load, or to install the aggregates on a database that already has data).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from storage.datamap.rules import SUM_RULES, TOUCHES, local_period, render
from storage.datamap.triggers import drop_statements, trigger_statements

CounterKey = tuple[int, str, str]


@dataclass
class Aggregates:
    """Everything the data map maintains, as plain values (zero counters left out)."""

    closure: set[tuple[int, int, int]] = field(default_factory=set)
    counters: dict[CounterKey, int] = field(default_factory=dict)
    last_active: dict[int, tuple[int | None, str]] = field(default_factory=dict)


def _closure_cte() -> str:
    return (
        "WITH RECURSIVE cl(unit_id, ancestor_id, depth) AS ("
        " SELECT id, id, 0 FROM org_units"
        " UNION ALL SELECT cl.unit_id, o.parent_id, cl.depth + 1 FROM cl"
        " JOIN org_units o ON o.id = cl.ancestor_id WHERE o.parent_id IS NOT NULL)"
    )


def _rule_recount(dialect: str) -> list[str]:
    """One SELECT per rule: per-unit sums first, then fanned out to the ancestors."""
    selects = []
    for rule in SUM_RULES:
        per_unit = (
            f"SELECT {render(rule.unit, dialect, 'r')} AS unit_id, {render(rule.metric, dialect, 'r')} AS metric, "
            f"{rule.period(dialect, 'r')} AS period, SUM({render(rule.weight, dialect, 'r')}) AS value "
            f"FROM {rule.table} r WHERE {render(rule.when, dialect, 'r')} GROUP BY 1, 2, 3"
        )
        selects.append(
            "SELECT c.ancestor_id AS org_unit_id, x.metric AS metric, x.period AS period, x.value AS value "
            f"FROM ({per_unit}) x JOIN stat_unit_closure c ON c.unit_id = x.unit_id WHERE x.value <> 0"
        )
    selects.append("SELECT c.ancestor_id, 'active', l.day, 1 FROM stat_last_active l "
                   "JOIN stat_unit_closure c ON c.unit_id = l.org_unit_id WHERE l.day IS NOT NULL")
    return selects


def _last_active_select(dialect: str) -> str:
    days = " UNION ALL ".join(
        f"SELECT {render(t.person, dialect, 'r')} AS person_id, {local_period(dialect, f'r.{t.at}', 'day')} AS day "
        f"FROM {t.table} r WHERE r.{t.at} IS NOT NULL" for t in TOUCHES
    )
    return ("SELECT p.id, p.org_unit_id, x.day FROM (SELECT person_id, MAX(day) AS day FROM "
            f"({days}) u WHERE person_id IS NOT NULL GROUP BY person_id) x JOIN people p ON p.id = x.person_id")


def rebuild_statements(dialect: str) -> list[str]:
    """Statements replacing the maintained aggregates by a recount of the source tables."""
    counters = " UNION ALL ".join(_rule_recount(dialect))
    return [
        "DELETE FROM stat_unit_closure",
        f"{_closure_cte()} INSERT INTO stat_unit_closure (unit_id, ancestor_id, depth) "
        "SELECT unit_id, ancestor_id, depth FROM cl",
        "DELETE FROM stat_deltas",
        "DELETE FROM stat_counters",
        "DELETE FROM stat_last_active",
        f"INSERT INTO stat_last_active (person_id, org_unit_id, day) {_last_active_select(dialect)}",
        "INSERT INTO stat_counters (org_unit_id, metric, period, value) "
        f"SELECT org_unit_id, metric, period, SUM(value) FROM ({counters}) u "
        "GROUP BY org_unit_id, metric, period HAVING SUM(value) <> 0",
    ]


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        # Waits for transactions that are writing deltas, and holds new ones back until commit,
        # so the recount and the triggers never both count one change.
        conn.exec_driver_sql("LOCK TABLE stat_deltas, stat_counters IN EXCLUSIVE MODE")


def rebuild_sync(conn: Connection) -> None:
    """Recount everything into the aggregate tables, on a synchronous connection."""
    _lock(conn)
    for stmt in rebuild_statements(conn.dialect.name):
        conn.exec_driver_sql(stmt)


def install_aggregates_sync(conn: Connection) -> None:
    """Create (or replace) the triggers and recount the aggregates; safe to run again."""
    for stmt in trigger_statements(conn.dialect.name):
        conn.exec_driver_sql(stmt)
    rebuild_sync(conn)


def drop_triggers_sync(conn: Connection) -> None:
    """Remove the triggers (before a bulk load; `install_aggregates_sync` afterwards)."""
    for stmt in drop_statements(conn.dialect.name):
        conn.exec_driver_sql(stmt)


async def install_aggregates(session: AsyncSession) -> None:
    """Create the triggers and recount, in the session's transaction (the caller commits)."""
    await session.run_sync(lambda s: install_aggregates_sync(s.connection()))


async def rebuild(session: AsyncSession) -> None:
    """Replace the aggregates by a recount, in the session's transaction (the caller commits)."""
    await session.run_sync(lambda s: rebuild_sync(s.connection()))


def _read_sync(conn: Connection) -> Aggregates:
    agg = Aggregates()
    agg.closure = {tuple(r) for r in conn.exec_driver_sql(  # type: ignore[misc]
        "SELECT unit_id, ancestor_id, depth FROM stat_unit_closure")}
    sums: dict[CounterKey, int] = defaultdict(int)
    for unit, metric, period, value in conn.exec_driver_sql(
            "SELECT org_unit_id, metric, period, value FROM stat_counters UNION ALL "
            "SELECT org_unit_id, metric, period, value FROM stat_deltas"):
        sums[(int(unit), metric, period)] += int(value)
    agg.counters = {k: v for k, v in sums.items() if v != 0}
    agg.last_active = {int(p): (u, d) for p, u, d in conn.exec_driver_sql(
        "SELECT person_id, org_unit_id, day FROM stat_last_active WHERE day IS NOT NULL")}
    return agg


async def maintained(session: AsyncSession) -> Aggregates:
    """What the triggers maintain now (counters with their unfolded deltas)."""
    return await session.run_sync(lambda s: _read_sync(s.connection()))


async def recount(session: AsyncSession) -> Aggregates:
    """The aggregates recomputed from the source tables; nothing is changed."""

    def run(s: Any) -> Aggregates:
        conn = s.connection()
        nested = conn.begin_nested()
        try:
            for stmt in rebuild_statements(conn.dialect.name):
                conn.exec_driver_sql(stmt)
            return _read_sync(conn)
        finally:
            nested.rollback()

    return await session.run_sync(run)


async def fold_deltas(session: AsyncSession) -> int:
    """Move PostgreSQL's pending deltas into the counters; returns how many were folded.

    One folder at a time (an advisory lock): two would update the same counters in different
    orders. A no-op on SQLite, whose triggers update the counters directly.
    """
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return 0
    await session.execute(text("SELECT pg_advisory_xact_lock(7070707)"))
    result = await session.execute(text(
        "WITH moved AS (DELETE FROM stat_deltas RETURNING org_unit_id, metric, period, value), "
        "summed AS (SELECT org_unit_id, metric, period, SUM(value) AS value, COUNT(*) AS n FROM moved "
        "GROUP BY org_unit_id, metric, period), "
        "upserted AS (INSERT INTO stat_counters (org_unit_id, metric, period, value) "
        "SELECT org_unit_id, metric, period, value FROM summed ORDER BY org_unit_id, metric, period "
        "ON CONFLICT (org_unit_id, metric, period) DO UPDATE SET value = stat_counters.value + excluded.value "
        "RETURNING 1) SELECT COALESCE(SUM(n), 0) FROM summed"
    ))
    return int(result.scalar_one())


async def read_counters(
    session: AsyncSession, unit_ids: Iterable[int], *, since: str | None = None, active_from: str | None = None,
    histograms: bool = True,
) -> dict[int, dict[tuple[str, str], int]]:
    """The counters (with unfolded deltas) of some units: {unit: {(metric, period): value}}.

    `since` ("2025-12") folds older months into one period "old" (totals stay whole, fewer rows);
    `active_from` ("2026-10-30") leaves out last-active days before it; `histograms=False`
    leaves out the time-to-accept histogram.
    """
    ids = sorted(set(unit_ids))
    out: dict[int, dict[tuple[str, str], int]] = {i: {} for i in ids}
    if not ids:
        return out
    marks = ", ".join(str(int(i)) for i in ids)
    cond = f"org_unit_id IN ({marks})"
    params: dict[str, Any] = {}
    if active_from is not None:
        cond += " AND NOT (metric = 'active' AND period < :active_from)"
        params["active_from"] = active_from
    if not histograms:
        cond += " AND metric NOT LIKE 'accept_min.%'"
    period = "period"
    if since is not None:
        period = "CASE WHEN metric = 'active' OR period = '' OR period >= :since THEN period ELSE 'old' END"
        params["since"] = since
    rows = await session.execute(text(
        f"SELECT org_unit_id, metric, {period} AS p, SUM(value) FROM (SELECT org_unit_id, metric, period, value "
        f"FROM stat_counters WHERE {cond} UNION ALL SELECT org_unit_id, metric, period, value FROM stat_deltas "
        f"WHERE {cond}) u GROUP BY org_unit_id, metric, p"), params)
    for unit, metric, p, value in rows:
        if value:
            out[int(unit)][(metric, p)] = int(value)
    return out
