"""The triggers that keep the data map's aggregates, generated from `storage.datamap.rules` per dialect.

SQLite: one trigger per rule and operation, each upserting `stat_counters` directly (SQLite
runs one writer at a time, so the shared rows cannot deadlock). PostgreSQL: one PL/pgSQL
function per source table appending signed rows to `stat_deltas`, which never conflict; the
per-person `stat_last_active` row is locked (`FOR UPDATE`) before it is read and moved.

Besides the rules, three structural changes are handled here:
- a new org unit gets its closure rows (itself, and its parent's ancestors);
- a unit moved under another parent carries its subtree's totals: its own counters (which *are*
  its subtree's totals) are subtracted from the old ancestors and added to the new ones, and
  the closure rows of the whole subtree are relinked (on PostgreSQL after the writers counting
  in it have committed, and before any new one counts: see `unit_move_statements`);
- a person whose home unit changes carries their last-active day, and the hours attributed to
  their home, to the new unit.
"""

from __future__ import annotations

from storage.datamap.rules import (
    HOURS_AT_SOURCE,
    SUM_RULES,
    TOUCHES,
    SumRule,
    Touch,
    local_period,
    render,
)

UPSERT = " ON CONFLICT (org_unit_id, metric, period) DO UPDATE SET value = stat_counters.value + excluded.value"


def _emit(dialect: str, select_sql: str) -> str:
    """Add the (org_unit_id, metric, period, value) rows of a SELECT to the counters."""
    if dialect == "postgresql":
        return f"INSERT INTO stat_deltas (org_unit_id, metric, period, value) {select_sql}"
    return f"INSERT INTO stat_counters (org_unit_id, metric, period, value) {select_sql}{UPSERT}"


def rule_emit(dialect: str, rule: SumRule, r: str, sign: str) -> str:
    """The statement adding (sign "+") or removing ("-") one row's contribution."""
    weight = render(rule.weight, dialect, r)
    select_sql = (
        f"SELECT c.ancestor_id, {render(rule.metric, dialect, r)}, {rule.period(dialect, r)}, {sign}({weight}) "
        f"FROM stat_unit_closure c WHERE c.unit_id = {render(rule.unit, dialect, r)} "
        f"AND ({render(rule.when, dialect, r)})"
    )
    return _emit(dialect, select_sql)


def _changed(dialect: str, columns: tuple[str, ...]) -> str:
    op = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    return " OR ".join(f"OLD.{c} {op} NEW.{c}" for c in columns)


def touch_statements(dialect: str, touch: Touch) -> list[str]:
    """Statements making NEW's day the person's last day of service, if it is later."""
    person = render(touch.person, dialect, "NEW")
    day = local_period(dialect, f"NEW.{touch.at}", "day")
    if dialect == "postgresql":
        return [
            "INSERT INTO stat_last_active (person_id, org_unit_id, day) "
            f"SELECT p.id, p.org_unit_id, NULL FROM people p WHERE p.id = {person} ON CONFLICT (person_id) DO NOTHING",
            f"PERFORM 1 FROM stat_last_active WHERE person_id = {person} FOR UPDATE",
            _emit(dialect, "SELECT c.ancestor_id, 'active', l.day, -1 FROM stat_last_active l "
                           "JOIN stat_unit_closure c ON c.unit_id = l.org_unit_id "
                           f"WHERE l.person_id = {person} AND l.day IS NOT NULL AND l.day < {day}"),
            _emit(dialect, f"SELECT c.ancestor_id, 'active', {day}, 1 FROM stat_last_active l "
                           "JOIN stat_unit_closure c ON c.unit_id = l.org_unit_id "
                           f"WHERE l.person_id = {person} AND (l.day IS NULL OR l.day < {day})"),
            f"UPDATE stat_last_active SET day = {day} WHERE person_id = {person} AND (day IS NULL OR day < {day})",
        ]
    # Each statement sees the state before the next one, so the order carries the logic.
    return [
        _emit(dialect, "SELECT c.ancestor_id, 'active', l.day, -1 FROM stat_last_active l "
                       "JOIN stat_unit_closure c ON c.unit_id = l.org_unit_id "
                       f"WHERE l.person_id = {person} AND l.day IS NOT NULL AND l.day < {day}"),
        _emit(dialect, f"SELECT c.ancestor_id, 'active', {day}, 1 FROM people p "
                       "JOIN stat_unit_closure c ON c.unit_id = p.org_unit_id "
                       f"WHERE p.id = {person} AND NOT EXISTS (SELECT 1 FROM stat_last_active l "
                       f"WHERE l.person_id = {person} AND l.day >= {day})"),
        "INSERT INTO stat_last_active (person_id, org_unit_id, day) "
        f"SELECT p.id, p.org_unit_id, {day} FROM people p WHERE p.id = {person} "
        "ON CONFLICT (person_id) DO UPDATE SET day = excluded.day, org_unit_id = excluded.org_unit_id "
        "WHERE stat_last_active.day IS NULL OR stat_last_active.day < excluded.day",
    ]


def _touch_forward(touch: Touch) -> str:
    return f"NEW.{touch.at} IS NOT NULL AND (OLD.{touch.at} IS NULL OR NEW.{touch.at} > OLD.{touch.at})"


def person_move_statements(dialect: str) -> list[str]:
    """Statements moving what is counted at a person's home unit from OLD's unit to NEW's."""
    sources = ", ".join(f"'{s}'" for s in HOURS_AT_SOURCE)
    month = local_period(dialect, "h.credited_at", "month")
    out = ["PERFORM 1 FROM stat_last_active WHERE person_id = NEW.id FOR UPDATE"] if dialect == "postgresql" else []
    for unit, sign in (("OLD.org_unit_id", "-"), ("NEW.org_unit_id", "")):
        out.append(_emit(dialect, f"SELECT c.ancestor_id, 'active', l.day, {sign}1 FROM stat_last_active l "
                                  f"JOIN stat_unit_closure c ON c.unit_id = {unit} "
                                  "WHERE l.person_id = NEW.id AND l.day IS NOT NULL"))
        out.append(_emit(dialect, f"SELECT c.ancestor_id, 'hours_c', COALESCE({month}, ''), "
                                  f"{sign}SUM(CAST(ROUND(h.hours * 100) AS BIGINT)) FROM hours_ledger h "
                                  f"JOIN stat_unit_closure c ON c.unit_id = {unit} "
                                  f"WHERE h.volunteer_id = NEW.id AND h.source_type NOT IN ({sources}) "
                                  f"GROUP BY c.ancestor_id, COALESCE({month}, '')"))
    out.append("UPDATE stat_last_active SET org_unit_id = NEW.org_unit_id WHERE person_id = NEW.id")
    return out


CLOSURE_INSERT = [
    "INSERT INTO stat_unit_closure (unit_id, ancestor_id, depth) VALUES (NEW.id, NEW.id, 0)",
    "INSERT INTO stat_unit_closure (unit_id, ancestor_id, depth) "
    "SELECT NEW.id, c.ancestor_id, c.depth + 1 FROM stat_unit_closure c WHERE c.unit_id = NEW.parent_id",
]
CLOSURE_DELETE = ["DELETE FROM stat_unit_closure WHERE unit_id = OLD.id OR ancestor_id = OLD.id"]


def unit_move_statements(dialect: str) -> list[str]:
    """Statements moving unit NEW (and its subtree) from OLD.parent_id to NEW.parent_id."""
    if dialect == "postgresql":
        totals = ("(SELECT metric, period, SUM(value) AS value FROM (SELECT metric, period, value FROM stat_counters "
                  "WHERE org_unit_id = NEW.id UNION ALL SELECT metric, period, value FROM stat_deltas "
                  "WHERE org_unit_id = NEW.id) u GROUP BY metric, period)")
    else:
        totals = "(SELECT metric, period, value FROM stat_counters WHERE org_unit_id = NEW.id)"

    def carry(sign: str) -> str:
        return _emit(dialect, f"SELECT c.ancestor_id, t.metric, t.period, {sign}t.value FROM {totals} t "
                              "JOIN stat_unit_closure c ON c.unit_id = NEW.id WHERE c.depth > 0 AND t.value <> 0")

    # PostgreSQL: the writers already counting in the subtree (through the closure rows about to be
    # relinked) commit first, so their deltas are carried with the rest, and new ones wait until the
    # move commits, then count through the new closure — else they would land on the old ancestors.
    # SHARE conflicts with every writer's ROW EXCLUSIVE on the deltas table and with nothing else
    # (SQLite runs one writer at a time: nothing to wait for).
    lock = ["LOCK TABLE stat_deltas IN SHARE MODE"] if dialect == "postgresql" else []
    return [
        *lock,
        carry("-"),
        "DELETE FROM stat_unit_closure WHERE unit_id IN (SELECT s.unit_id FROM stat_unit_closure s "
        "WHERE s.ancestor_id = NEW.id) AND ancestor_id IN (SELECT a.ancestor_id FROM stat_unit_closure a "
        "WHERE a.unit_id = NEW.id AND a.depth > 0)",
        "INSERT INTO stat_unit_closure (unit_id, ancestor_id, depth) "
        "SELECT sub.unit_id, sup.ancestor_id, sub.depth + sup.depth + 1 FROM stat_unit_closure sub "
        "JOIN stat_unit_closure sup ON sup.unit_id = NEW.parent_id WHERE sub.ancestor_id = NEW.id",
        carry(""),
    ]


# ------------------------------------------------------------------ SQLite


def _sqlite_trigger(name: str, event: str, table: str, when: str | None, body: list[str]) -> list[str]:
    cond = f" WHEN {when}" if when else ""
    stmts = "".join(f" {s};" for s in body)
    return [f"DROP TRIGGER IF EXISTS {name}",
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{cond} BEGIN{stmts} END"]


def sqlite_statements() -> list[str]:
    """DROP/CREATE statements for every SQLite trigger."""
    d = "sqlite"
    out: list[str] = []
    for rule in SUM_RULES:
        pre_ins = CLOSURE_INSERT if rule.table == "org_units" else []
        post_del = CLOSURE_DELETE if rule.table == "org_units" else []
        out += _sqlite_trigger(f"stat_{rule.name}_ins", "INSERT", rule.table, None,
                               pre_ins + [rule_emit(d, rule, "NEW", "+")])
        out += _sqlite_trigger(f"stat_{rule.name}_del", "DELETE", rule.table, None,
                               [rule_emit(d, rule, "OLD", "-")] + post_del)
        out += _sqlite_trigger(f"stat_{rule.name}_upd", f"UPDATE OF {', '.join(rule.columns)}", rule.table,
                               _changed(d, rule.columns),
                               [rule_emit(d, rule, "OLD", "-"), rule_emit(d, rule, "NEW", "+")])
    for touch in TOUCHES:
        out += _sqlite_trigger(f"stat_touch_{touch.table}_ins", "INSERT", touch.table,
                               f"NEW.{touch.at} IS NOT NULL", touch_statements(d, touch))
        out += _sqlite_trigger(f"stat_touch_{touch.table}_upd", f"UPDATE OF {touch.at}", touch.table,
                               _touch_forward(touch), touch_statements(d, touch))
    out += _sqlite_trigger("stat_people_move", "UPDATE OF org_unit_id", "people",
                           "OLD.org_unit_id IS NOT NEW.org_unit_id", person_move_statements(d))
    out += _sqlite_trigger("stat_unit_move", "UPDATE OF parent_id", "org_units",
                           "OLD.parent_id IS NOT NEW.parent_id", unit_move_statements(d))
    return out


# ------------------------------------------------------------------ PostgreSQL


def _block(cond: str, body: list[str]) -> str:
    return f"IF {cond} THEN " + "".join(f"{s}; " for s in body) + "END IF; "


def postgresql_function(table: str) -> str:
    """The PL/pgSQL trigger function of one source table."""
    d = "postgresql"
    rules = [r for r in SUM_RULES if r.table == table]
    touches = [t for t in TOUCHES if t.table == table]
    ins: list[str] = list(CLOSURE_INSERT) if table == "org_units" else []
    ins += [rule_emit(d, r, "NEW", "+") for r in rules]
    dele = [rule_emit(d, r, "OLD", "-") for r in rules] + (list(CLOSURE_DELETE) if table == "org_units" else [])
    upd = ""
    if table == "org_units":
        upd += _block("OLD.parent_id IS DISTINCT FROM NEW.parent_id", unit_move_statements(d))
    if table == "people":
        upd += _block("OLD.org_unit_id IS DISTINCT FROM NEW.org_unit_id", person_move_statements(d))
    for r in rules:
        upd += _block(_changed(d, r.columns), [rule_emit(d, r, "OLD", "-"), rule_emit(d, r, "NEW", "+")])
    ins_touch = "".join(_block(f"NEW.{t.at} IS NOT NULL", touch_statements(d, t)) for t in touches)
    upd += "".join(_block(_touch_forward(t), touch_statements(d, t)) for t in touches)
    body = (
        "BEGIN IF TG_OP = 'INSERT' THEN " + "".join(f"{s}; " for s in ins) + ins_touch
        + "ELSIF TG_OP = 'DELETE' THEN " + "".join(f"{s}; " for s in dele)
        + "ELSE " + (upd or "NULL; ") + "END IF; RETURN NULL; END"
    )
    return f"CREATE OR REPLACE FUNCTION stat_trg_{table}() RETURNS trigger LANGUAGE plpgsql AS $stat$ {body} $stat$"


def postgresql_statements() -> list[str]:
    """CREATE FUNCTION / DROP / CREATE TRIGGER statements for every source table."""
    from storage.datamap.rules import SOURCE_TABLES

    out: list[str] = []
    for table in SOURCE_TABLES:
        out.append(postgresql_function(table))
        out.append(f"DROP TRIGGER IF EXISTS stat_{table} ON {table}")
        out.append(f"CREATE TRIGGER stat_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION stat_trg_{table}()")
    return out


def trigger_statements(dialect: str) -> list[str]:
    """Every statement installing (or replacing) the triggers on a dialect."""
    return postgresql_statements() if dialect == "postgresql" else sqlite_statements()


def drop_statements(dialect: str) -> list[str]:
    """Statements removing the triggers (a bulk load drops them, then rebuilds and reinstalls)."""
    from storage.datamap.rules import SOURCE_TABLES

    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS stat_{t} ON {t}" for t in SOURCE_TABLES]
    return [s for s in sqlite_statements() if s.startswith("DROP TRIGGER")]
