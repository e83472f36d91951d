"""Generate a province-sized network (Liaoning: 1.2 million volunteers, 20,000 teams) with set-based SQL.

Used by `bench/scheduler_fanout.py`; run by hand. Every table is filled by a few
`INSERT … SELECT` statements over a number series (PostgreSQL `generate_series`, a recursive
CTE on SQLite) — no ORM object per row. The shape, for an empty database:

- 1 province, 14 cities, 100 county centers, 10 institutes per center, 2 stations per institute
  (3,115 units);
- 20,000 teams spread over the centers, institutes and stations; 60 % have a bound group chat;
- 1,200,000 volunteers, each in one team and every fifth in a second; 80 % accept direct
  messages; 90 % have a Telegram account, 30 % also a WeChat one used more recently, and
  5 % a newer WeCom account that is unreachable (so the preferred account must be chosen
  correctly in SQL);
- two planned activities per county on the moral-day date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

CITIES, CENTERS, INSTITUTES_PER_CENTER, STATIONS_PER_INSTITUTE = 14, 100, 10, 2


@dataclass(frozen=True)
class Shape:
    """How big a province to make."""

    volunteers: int = 1_200_000
    teams: int = 20_000
    group_share: float = 0.6  # teams with a bound group

    @property
    def units(self) -> int:
        """All org units."""
        return 1 + CITIES + CENTERS * (1 + INSTITUTES_PER_CENTER * (1 + STATIONS_PER_INSTITUTE))


def _series(dialect: str, n: int) -> tuple[str, str]:
    """(WITH prefix, FROM clause) producing rows n = 1..N."""
    if dialect == "postgresql":
        return "", f"generate_series(1, {n}) AS s(n)"
    return f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) ", "s"


def _ts(dialect: str, at: datetime) -> str:
    naive = at.astimezone(timezone.utc).replace(tzinfo=None)
    if dialect == "postgresql":
        return f"TIMESTAMPTZ '{naive.isoformat(sep=' ')}+00'"
    return f"'{naive.isoformat(sep=' ')}.000000'" if naive.microsecond == 0 else f"'{naive.isoformat(sep=' ')}'"


def _true(dialect: str, cond: str) -> str:
    return f"({cond})" if dialect == "postgresql" else f"CASE WHEN {cond} THEN 1 ELSE 0 END"


async def generate(engine: AsyncEngine, shape: Shape, moral_day: datetime, now: datetime) -> dict[str, int]:
    """Fill an empty database with a province; returns the row counts."""
    d = engine.dialect.name
    ts_now = _ts(d, now)
    bool_t, bool_f = ("TRUE", "FALSE") if d == "postgresql" else ("1", "0")
    centers_base = 1 + CITIES  # ids: 1 province, 2..15 cities, then centers, institutes, stations
    inst_base = centers_base + CENTERS
    n_inst = CENTERS * INSTITUTES_PER_CENTER
    station_base = inst_base + n_inst
    n_station = n_inst * STATIONS_PER_INSTITUTE
    stmts: list[str] = ["INSERT INTO org_units (id, code, name, level, parent_id, path) "
                        "VALUES (1, 'LN', '辽宁省', 'province', NULL, '/1/')"]

    def insert(table: str, columns: str, select: str, count: int) -> str:
        w, s = _series(d, count)
        body = select.replace("{S}", s)
        if d == "postgresql":
            return f"INSERT INTO {table} ({columns}) {body}"
        return f"INSERT INTO {table} ({columns}) {w}{body}"

    stmts.append(insert("org_units", "id, code, name, level, parent_id, path",
                        "SELECT n + 1, 'C' || n, '第' || n || '市', 'city', 1, '/1/' || (n + 1) || '/' FROM {S}",
                        CITIES))
    city_of_center = f"(2 + (n - 1) % {CITIES})"
    stmts.append(insert(
        "org_units", "id, code, name, level, parent_id, path",
        f"SELECT {centers_base} + n, 'X' || n, '第' || n || '县新时代文明实践中心', 'center', {city_of_center}, "
        f"'/1/' || {city_of_center} || '/' || ({centers_base} + n) || '/' FROM {{S}}", CENTERS))
    center_of_inst = f"({centers_base} + 1 + (n - 1) / {INSTITUTES_PER_CENTER})"
    stmts.append(insert(
        "org_units", "id, code, name, level, parent_id, path",
        f"SELECT {inst_base} + n, 'I' || n, '第' || n || '镇新时代文明实践所', 'institute', {center_of_inst}, "
        f"'' FROM {{S}}", n_inst))
    inst_of_station = f"({inst_base} + 1 + (n - 1) / {STATIONS_PER_INSTITUTE})"
    stmts.append(insert(
        "org_units", "id, code, name, level, parent_id, path",
        f"SELECT {station_base} + n, 'S' || n, '第' || n || '村新时代文明实践站', 'station', {inst_of_station}, "
        f"'' FROM {{S}}", n_station))
    # Paths below the centers: parent's path + own id, one level at a time.
    for level in ("institute", "station"):
        stmts.append(
            "UPDATE org_units SET path = (SELECT p.path FROM org_units p WHERE p.id = org_units.parent_id) "
            f"|| org_units.id || '/' WHERE level = '{level}'")
    # Teams over centers, institutes and stations (ids centers_base+1 .. station_base+n_station).
    lower = CENTERS + n_inst + n_station
    stmts.append(insert(
        "teams", "id, code, name, org_unit_id, parent_team_id, categories, invite_code",
        f"SELECT n, 'T' || n, '第' || n || '志愿服务队', {centers_base} + 1 + (n - 1) % {lower}, NULL, "
        f"'|其他|', 'INV' || n FROM {{S}}", shape.teams))
    groups = int(shape.teams * shape.group_share)
    if groups:  # a recursive CTE over 1..0 would still yield one row on SQLite
        stmts.append(insert(
            "team_groups", "id, team_id, platform, chat_id, title",
            f"SELECT n, n, 'telegram', '-100' || n, '第' || n || '队群' FROM {{S}}", groups))
    stmts.append(insert(
        "people", "id, name, phone, org_unit_id, is_resident, is_volunteer, party_member, skills, "
                  "dm_opt_in, share_phone, created_at",
        f"SELECT n, '志愿者' || n, '1' || (3000000000 + n), {centers_base} + 1 + ((n - 1) % {shape.teams}) % {lower}, "
        f"{bool_f}, {bool_t}, {_true(d, 'n % 3 = 0')}, '', {_true(d, 'n % 5 <> 0')}, {bool_f}, {ts_now} "
        f"FROM {{S}}", shape.volunteers))
    stmts.append(insert("team_members", "team_id, person_id",
                        f"SELECT 1 + (n - 1) % {shape.teams}, n FROM {{S}}", shape.volunteers))
    second = shape.volunteers // 5
    stmts.append(insert("team_members", "team_id, person_id",
                        f"SELECT 1 + (5 * n + 7) % {shape.teams}, 5 * n FROM {{S}} "
                        f"WHERE 1 + (5 * n + 7) % {shape.teams} <> 1 + (5 * n - 1) % {shape.teams}", second))
    seen_old, seen_new = _ts(d, datetime(2026, 10, 1, tzinfo=timezone.utc)), _ts(d, datetime(2026, 11, 20, tzinfo=timezone.utc))
    tg = int(shape.volunteers * 0.9)
    stmts.append(insert("channel_identities", "id, platform, external_id, person_id, display_name, last_seen_at, reachable",
                        f"SELECT n, 'telegram', 'tg' || n, n, NULL, {seen_old}, {bool_t} FROM {{S}}", tg))
    wx = int(shape.volunteers * 0.3)
    stmts.append(insert("channel_identities", "id, platform, external_id, person_id, display_name, last_seen_at, reachable",
                        f"SELECT {tg} + n, 'wechat', 'wx' || (3 * n), 3 * n, NULL, {seen_new}, {bool_t} FROM {{S}}", wx))
    wc = int(shape.volunteers * 0.05)
    stmts.append(insert("channel_identities", "id, platform, external_id, person_id, display_name, last_seen_at, reachable",
                        f"SELECT {tg + wx} + n, 'wecom', 'wc' || (20 * n), 20 * n, NULL, {ts_now}, {bool_f} FROM {{S}}",
                        wc))
    morning = _ts(d, moral_day.replace(hour=9))
    evening = _ts(d, moral_day.replace(hour=11))
    stmts.append(insert(
        "activities", "id, team_id, org_unit_id, title, place, starts_at, ends_at, capacity, checkin_code, status, "
                      "created_at, signup_seq, beneficiaries",
        f"SELECT n, n, (SELECT org_unit_id FROM teams WHERE id = n), '道德讲堂第' || n || '场', '文化广场', {morning}, "
        f"{evening}, 30, '1234', 'planned', {ts_now}, 0, 0 FROM {{S}}", 2 * CENTERS))
    async with engine.begin() as conn:
        for stmt in stmts:
            await conn.execute(text(stmt))
        if d == "postgresql":
            for table, col in (("org_units", "id"), ("teams", "id"), ("team_groups", "id"), ("people", "id"),
                               ("channel_identities", "id"), ("activities", "id")):
                await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', '{col}'), "
                                        f"COALESCE((SELECT MAX({col}) FROM {table}), 0) + 1, false)"))
        if d != "postgresql":
            await conn.execute(text("ANALYZE"))
    if d == "postgresql":
        # A live province's tables have long been vacuumed: set hint bits and statistics now, so
        # the benchmark does not pay for the bulk load's first read.
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    counts = {}
    async with engine.connect() as conn:
        for table in ("org_units", "teams", "team_groups", "people", "team_members", "channel_identities", "activities"):
            counts[table] = (await conn.execute(text(f"SELECT COUNT(*) FROM {table}"))).scalar_one()
    return counts
