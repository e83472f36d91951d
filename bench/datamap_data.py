"""A year of activity on top of the synthetic province of `bench/province.py`, for `bench/datamap.py`.

`bench/province.py` (the scheduler's benchmark) makes the network and the people; here the
network is made to the data map's scale (its module constants set to 12 institutes per county
and 10 stations per institute: 14 cities, 100 counties, 1,200 institutes, 12,000 stations),
then a year of tasks, hours, activities, sign-ups, projects, wishes and pairing visits is
added, every table with a few `INSERT … SELECT` statements over a number series — no ORM
object per row. Registration dates are spread over two years so volunteers have a monthly series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import province  # bench/province.py: the network and the people

province.INSTITUTES_PER_CENTER = 12
province.STATIONS_PER_INSTITUTE = 10
CENTERS_BASE = 1 + province.CITIES
INST_BASE = CENTERS_BASE + province.CENTERS
N_INST = province.CENTERS * province.INSTITUTES_PER_CENTER
STATION_BASE = INST_BASE + N_INST
N_STATION = N_INST * province.STATIONS_PER_INSTITUTE
LOWER = province.CENTERS + N_INST + N_STATION  # units a team or a volunteer can belong to
YEAR = 365 * 86400


@dataclass(frozen=True)
class Activity:
    """How much happened in the year."""

    tasks: int = 360_000
    activities: int = 60_000
    signups_per_activity: int = 10
    projects: int = 3_000
    wishes: int = 24_000
    pairings: int = 40_000
    visits_per_pairing: int = 6


def _series(d: str, n: int) -> tuple[str, str]:
    if d == "postgresql":
        return "", f"generate_series(1, {n}) AS s(n)"
    return f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) ", "s"


def _at(d: str, base: datetime, seconds: str) -> str:
    """SQL for `base` + `seconds` (an integer SQL expression), stored as each backend stores UTC times."""
    naive = base.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
    if d == "postgresql":
        return f"(TIMESTAMPTZ '{naive}+00' + ({seconds}) * INTERVAL '1 second')"
    return f"(strftime('%Y-%m-%d %H:%M:%S', '{naive}', ({seconds}) || ' seconds') || '.000000')"


def _plus(d: str, column: str, seconds: str) -> str:
    if d == "postgresql":
        return f"({column} + ({seconds}) * INTERVAL '1 second')"
    return f"(strftime('%Y-%m-%d %H:%M:%S', {column}, ({seconds}) || ' seconds') || '.000000')"


def statements(d: str, volunteers: int, shape: Activity, now: datetime) -> list[str]:
    """The INSERT/UPDATE statements adding the year's activity."""
    true, false = ("TRUE", "FALSE") if d == "postgresql" else ("1", "0")
    start = now - timedelta(days=365)
    v = volunteers
    out: list[str] = []

    def insert(table: str, columns: str, select: str, count: int) -> None:
        w, s = _series(d, count)
        body = select.replace("{S}", s)
        out.append(f"INSERT INTO {table} ({columns}) {body}" if d == "postgresql"
                   else f"INSERT INTO {table} ({columns}) {w}{body}")

    registered = _at(d, now - timedelta(days=730), f"(CAST(id AS BIGINT) * 7919) % {2 * YEAR}")
    out.append(f"UPDATE people SET created_at = {registered}")
    insert("projects", "name, org_unit_id, created_at",
           f"SELECT '项目' || n, {CENTERS_BASE} + 1 + (n - 1) % {LOWER}, {_at(d, start, f'(n * 4241) % {YEAR}')} "
           "FROM {S}", shape.projects)
    t = shape.tasks
    created = _at(d, start, f"n * {YEAR // t} + (n * 37) % 3600")
    recent = f"n > {t - t * 7 // 365}"
    status = (f"CASE WHEN {recent} THEN (CASE n % 6 WHEN 0 THEN 'submitted' WHEN 1 THEN 'dispatched' "
              "WHEN 2 THEN 'accepted' WHEN 3 THEN 'completed' ELSE 'closed' END) "
              "WHEN n % 20 = 0 THEN 'cancelled' ELSE 'closed' END")
    insert("tasks", "resident_id, created_by_id, org_unit_id, category, description, urgent, media, status, "
                    "volunteers_needed, accepted_count, dispatch_level, created_at",
           f"SELECT 1 + (n * 13) % {v}, 1 + (n * 13) % {v}, {STATION_BASE} + 1 + (n * 7) % {N_STATION}, "
           f"'生活帮扶', '帮忙', {false}, '[]', {status}, 1, 0, 'station', {created} FROM {{S}}", t)
    accept_s = "((id * 37) % 480 + 5) * 60"
    out.append(f"UPDATE tasks SET accepted_at = {_plus(d, 'created_at', accept_s)}, accepted_count = 1 "
               "WHERE status IN ('accepted', 'completed', 'closed')")
    out.append(f"UPDATE tasks SET completed_at = {_plus(d, 'accepted_at', '7200')}, hours = 1 + (id % 4) * 0.5 "
               "WHERE status IN ('completed', 'closed')")
    out.append(f"UPDATE tasks SET closed_at = {_plus(d, 'completed_at', '86400')}, rating = 5 WHERE status = 'closed'")
    out.append(f"UPDATE tasks SET closed_at = {_plus(d, 'created_at', '3600')} WHERE status = 'cancelled'")
    out.append("INSERT INTO task_assignments (task_id, volunteer_id, active, accepted_at) "
               f"SELECT id, 1 + (CAST(id AS BIGINT) * 7919) % {v}, {true}, accepted_at FROM tasks "
               "WHERE accepted_at IS NOT NULL")
    out.append("INSERT INTO hours_ledger (volunteer_id, hours, source_type, source_id, credited_at) "
               "SELECT a.volunteer_id, t.hours, 'task', t.id, t.closed_at FROM tasks t "
               "JOIN task_assignments a ON a.task_id = t.id WHERE t.status = 'closed'")
    a = shape.activities
    starts = _at(d, start, f"n * {YEAR // a} + (n * 53) % 3600")
    team = f"(1 + (n * 17) % 20000)"
    now_sql = _at(d, now, "0")
    insert("activities", "team_id, org_unit_id, project_id, title, place, starts_at, ends_at, capacity, checkin_code, "
                         "status, created_at, signup_seq, beneficiaries",
           f"SELECT {team}, {CENTERS_BASE} + 1 + ({team} - 1) % {LOWER}, CASE WHEN n % 3 = 0 THEN 1 + n % "
           f"{shape.projects} END, '志愿活动' || n, '文化广场', {starts}, {_plus(d, starts, '7200')}, 30, '1234', "
           f"CASE WHEN n % 20 = 0 THEN 'cancelled' WHEN {starts} < {now_sql} THEN 'finished' ELSE 'planned' END, "
           f"{_plus(d, starts, '-604800')}, 0, n % 50 FROM {{S}}", a)
    k = shape.signups_per_activity
    w, s = _series(d, k)
    body = (f"SELECT x.id, 1 + (x.id * 101 + s.n * 7919) % {v}, 'signed', {_plus(d, 'x.starts_at', '-259200')}, "
            f"x.starts_at, x.ends_at, 2, {true}, {false} FROM activities x CROSS JOIN {s} "
            "WHERE x.status = 'finished' AND x.title LIKE '志愿活动%'")
    cols = "activity_id, volunteer_id, status, signed_at, checkin_at, checkout_at, hours, verified, no_show"
    out.append(f"INSERT INTO activity_signups ({cols}) {body}" if d == "postgresql"
               else f"INSERT INTO activity_signups ({cols}) {w}{body}")
    out.append("INSERT INTO hours_ledger (volunteer_id, hours, source_type, source_id, credited_at) "
               f"SELECT volunteer_id, hours, 'activity_signup', id, {_plus(d, 'checkout_at', '86400')} "
               "FROM activity_signups WHERE verified = " + true)
    wish_status = ("CASE n % 5 WHEN 0 THEN 'submitted' WHEN 1 THEN 'published' WHEN 2 THEN 'claimed' "
                   "WHEN 3 THEN 'fulfilled' ELSE 'confirmed' END")
    w_created = _at(d, start, f"(n * 6047) % {YEAR}")
    insert("wishes", "org_unit_id, household, description, status, submitted_by_id, created_at, proof, confirmed_at",
           f"SELECT {STATION_BASE} + 1 + (n * 11) % {N_STATION}, '户' || n, '收音机', {wish_status}, "
           f"1 + (n * 3) % {v}, {w_created}, '[]', CASE WHEN n % 5 = 4 THEN {_plus(d, w_created, '1209600')} END "
           "FROM {S}", shape.wishes)
    insert("pairings", "volunteer_id, org_unit_id, household_name, active, created_at",
           f"SELECT 1 + (n * 31) % {v}, {STATION_BASE} + 1 + (n * 19) % {N_STATION}, '户' || n, {true}, "
           f"{_at(d, start, f'(n * 97) % 86400')} FROM {{S}}", shape.pairings)
    w, s = _series(d, shape.visits_per_pairing)
    body = (f"SELECT p.id, {_plus(d, 'p.created_at', f's.n * 60 * 86400 - (p.id % 20) * 86400')}, '走访', 1 "
            f"FROM pairings p CROSS JOIN {s}")
    out.append(f"INSERT INTO pairing_visits (pairing_id, visited_at, note, problems_solved) {body}"
               if d == "postgresql" else
               f"INSERT INTO pairing_visits (pairing_id, visited_at, note, problems_solved) {w}{body}")
    return out


async def generate_year(engine: AsyncEngine, volunteers: int, shape: Activity, now: datetime) -> dict[str, int]:
    """Add the year's activity to a generated province; returns the row counts."""
    d = engine.dialect.name
    async with engine.begin() as conn:
        for stmt in statements(d, volunteers, shape, now):
            await conn.exec_driver_sql(stmt)
        await conn.exec_driver_sql("ANALYZE")
    counts = {}
    async with engine.connect() as conn:
        for table in ("tasks", "task_assignments", "hours_ledger", "activities", "activity_signups", "projects",
                      "wishes", "pairings", "pairing_visits"):
            counts[table] = (await conn.execute(text(f"SELECT COUNT(*) FROM {table}"))).scalar_one()
    return counts
