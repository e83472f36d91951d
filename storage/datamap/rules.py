"""What the data map counts, written once: the triggers that maintain it and the recount both come from here.

A `SumRule` says: every row of a table adds `weight` to `metric` in `period`, at its unit and
each unit above it. A `Touch` says: a row of a table is a day of service for a person (for
"active volunteers"). `trigger_statements(dialect)` turns them into SQLite triggers or
PostgreSQL trigger functions; `storage.datamap.recount` turns the same rules into GROUP BY
queries over the source tables. Expressions are SQL templates over the row alias `{r}`
(`NEW`/`OLD` in a trigger, a table alias in the recount).

Definitions (they are the figures' definitions too):
- periods are Beijing-time (UTC+8) months and days: China has one civil time zone and no DST,
  so a fixed offset gives the same calendar on SQLite (which has no zone database) and PostgreSQL;
- a volunteer is a person with `is_volunteer`, counted at their roster home unit;
- tasks are counted by status at their village station, in the month they were ordered;
- time to accept is `accepted_at − created_at` (the last accept, for tasks needing several people),
  in whole minutes, kept exact under 2 h, to 10 minutes under a day, to the hour beyond;
- hours are verified ledger hours, at the task's station or the activity's unit, in the month
  credited (other sources, none today, at the volunteer's home unit);
- beneficiaries (受益人次) are people served: each closed task and each confirmed wish serves one
  household; an activity serves the number its captain reported (cancelled ones none);
- a person's service days are the days they accepted a task, logged a pairing visit, or had hours
  credited (activity participation counts once the captain verifies its hours). These source rows
  are never deleted and their times only move forward, so "last day of service" is exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

OFFSET_HOURS = 8

Template = str | Callable[[str, str], str]

# Sources of hours attributed to the unit where the service happened (others: the volunteer's home).
# A correction of an activity's verified hours counts where the activity was held, as the hours it corrects.
HOURS_AT_SOURCE = ("task", "activity_signup", "hours_correction")


def local_period(dialect: str, expr: str, grain: str) -> str:
    """SQL for the Beijing-time month ("2026-11") or day ("2026-11-28") of a UTC timestamp."""
    if dialect == "postgresql":
        fmt = "YYYY-MM" if grain == "month" else "YYYY-MM-DD"
        return f"to_char(timezone('UTC', {expr}) + interval '{OFFSET_HOURS} hours', '{fmt}')"
    fmt = "%Y-%m" if grain == "month" else "%Y-%m-%d"
    return f"strftime('{fmt}', {expr}, '+{OFFSET_HOURS} hours')"


def minutes_between(dialect: str, start: str, end: str) -> str:
    """SQL for the whole minutes from `start` to `end` (seconds rounded half up first)."""
    if dialect == "postgresql":
        return f"(CAST(floor(extract(epoch FROM ({end} - {start})) + 0.5) AS BIGINT) / 60)"
    # julianday is a double: rounding to the second first keeps 30 minutes from being 29.99…
    return f"(CAST((julianday({end}) - julianday({start})) * 86400 + 0.5 AS INTEGER) / 60)"


def accept_bucket(minutes: int) -> int:
    """The histogram bucket of a time to accept: the minute under 2 h, 10 minutes under a day, else the hour."""
    if minutes < 120:
        return minutes
    if minutes < 1440:
        return minutes // 10 * 10
    return minutes // 60 * 60


def _bucket_sql(dialect: str, r: str) -> str:
    m = minutes_between(dialect, f"{r}.created_at", f"{r}.accepted_at")
    bucket = f"(CASE WHEN {m} < 120 THEN {m} WHEN {m} < 1440 THEN {m} / 10 * 10 ELSE {m} / 60 * 60 END)"
    return f"'accept_min.' || CAST({bucket} AS VARCHAR(12))"


def _centi_hours(_dialect: str, r: str) -> str:
    return f"CAST(ROUND({r}.hours * 100) AS BIGINT)"


_HOURS_UNIT = (
    "(CASE {r}.source_type"
    " WHEN 'task' THEN (SELECT t.org_unit_id FROM tasks t WHERE t.id = {r}.source_id)"
    " WHEN 'activity_signup' THEN (SELECT a.org_unit_id FROM activity_signups s"
    " JOIN activities a ON a.id = s.activity_id WHERE s.id = {r}.source_id)"
    " WHEN 'hours_correction' THEN (SELECT a.org_unit_id FROM hours_corrections c"
    " JOIN activity_signups s ON s.id = c.signup_id JOIN activities a ON a.id = s.activity_id"
    " WHERE c.id = {r}.source_id)"
    " ELSE (SELECT p.org_unit_id FROM people p WHERE p.id = {r}.volunteer_id) END)"
)


def render(template: Template, dialect: str, r: str) -> str:
    """A template's SQL for a dialect and a row alias."""
    return template(dialect, r) if callable(template) else template.format(r=r)


@dataclass(frozen=True)
class SumRule:
    """Each row of `table` satisfying `when` adds `weight` to `metric` at its unit's subtree counters."""

    name: str
    table: str
    metric: Template
    unit: Template
    columns: tuple[str, ...]
    period_column: str | None = None
    weight: Template = "1"
    when: Template = "1 = 1"
    grain: str = "month"

    def period(self, dialect: str, r: str) -> str:
        """SQL for the row's period ("" when the rule is undated or the time is missing)."""
        if self.period_column is None:
            return "''"
        return f"COALESCE({local_period(dialect, f'{r}.{self.period_column}', self.grain)}, '')"


@dataclass(frozen=True)
class Touch:
    """Each row of `table` is a day of service, at `at`, for the person `person`."""

    table: str
    person: Template
    at: str


SUM_RULES: tuple[SumRule, ...] = (
    SumRule("units", "org_units", "'units.' || {r}.level", "{r}.id", ("level",)),
    SumRule("teams", "teams", "'teams'", "{r}.org_unit_id", ("org_unit_id",)),
    SumRule("volunteers", "people", "'volunteers'", "{r}.org_unit_id",
            ("org_unit_id", "is_volunteer", "created_at"), "created_at", when="{r}.is_volunteer"),
    SumRule("projects", "projects", "'projects'", "{r}.org_unit_id", ("org_unit_id", "created_at"), "created_at"),
    SumRule("activities", "activities", "'activities.' || {r}.status", "{r}.org_unit_id",
            ("status", "org_unit_id", "starts_at"), "starts_at"),
    SumRule("activity_beneficiaries", "activities", "'beneficiaries'", "{r}.org_unit_id",
            ("beneficiaries", "status", "org_unit_id", "starts_at"), "starts_at",
            weight="{r}.beneficiaries", when="{r}.status <> 'cancelled'"),
    SumRule("tasks", "tasks", "'tasks.' || {r}.status", "{r}.org_unit_id",
            ("status", "org_unit_id", "created_at"), "created_at"),
    SumRule("accept_time", "tasks", _bucket_sql, "{r}.org_unit_id",
            ("accepted_at", "created_at", "org_unit_id"), "created_at",
            when="{r}.accepted_at IS NOT NULL AND {r}.accepted_at >= {r}.created_at"),
    SumRule("task_beneficiaries", "tasks", "'beneficiaries'", "{r}.org_unit_id",
            ("status", "closed_at", "org_unit_id"), "closed_at", when="{r}.status = 'closed'"),
    SumRule("hours", "hours_ledger", "'hours_c'", _HOURS_UNIT,
            ("hours", "source_type", "source_id", "volunteer_id", "credited_at"), "credited_at",
            weight=_centi_hours),
    SumRule("wishes", "wishes", "'wishes.' || {r}.status", "{r}.org_unit_id",
            ("status", "org_unit_id", "created_at"), "created_at"),
    SumRule("wish_beneficiaries", "wishes", "'beneficiaries'", "{r}.org_unit_id",
            ("status", "confirmed_at", "org_unit_id"), "confirmed_at", when="{r}.status = 'confirmed'"),
    SumRule("pairings", "pairings", "'pairings'", "{r}.org_unit_id", ("active", "org_unit_id", "created_at"),
            "created_at", when="{r}.active"),
    SumRule("pairing_visits", "pairing_visits", "'pairing_visits'",
            "(SELECT p.org_unit_id FROM pairings p WHERE p.id = {r}.pairing_id)", ("pairing_id", "visited_at"),
            "visited_at"),
)

TOUCHES: tuple[Touch, ...] = (
    Touch("hours_ledger", "{r}.volunteer_id", "credited_at"),
    Touch("task_assignments", "{r}.volunteer_id", "accepted_at"),
    Touch("pairing_visits", "(SELECT p.volunteer_id FROM pairings p WHERE p.id = {r}.pairing_id)", "visited_at"),
)

SOURCE_TABLES = tuple(dict.fromkeys([r.table for r in SUM_RULES] + [t.table for t in TOUCHES] + ["people"]))
