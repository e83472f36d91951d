"""Shared fixtures: a fresh database per test, on SQLite always and on PostgreSQL when configured.

`XINFENG_TEST_DATABASE_URL` (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test) adds the
PostgreSQL run of every test that uses `engine`; each such test starts from an empty schema
(built once per run, emptied before each test), so tests never see each other's rows.
`XINFENG_TEST_REDIS_URL` does the same for Redis-backed stores, under a unique key prefix.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.clock import FixedClock
from storage.db import create_all, create_engine, session_factory
from storage.models import metadata

PG_URL = os.environ.get("XINFENG_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("XINFENG_TEST_REDIS_URL")

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(scope="session")
def schema_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The schema built once per run and per backend, for every test to start from.

    SQLite: a database file, copied per test. PostgreSQL: one database for the run, emptied
    before each test (rows deleted with triggers off, id sequences restarted) — a few
    milliseconds, where building the schema with its data-map triggers, cloning a template
    database or truncating every table each costs ~0.2–0.4 s of file syncing on this machine.
    """
    templates: dict[str, str] = {}
    sqlite_path = tmp_path_factory.mktemp("schema") / "template.db"

    async def build() -> None:
        eng = create_engine(f"sqlite+aiosqlite:///{sqlite_path}")
        await create_all(eng)
        await eng.dispose()  # the last connection checkpoints the WAL into the file
        templates["sqlite"] = str(sqlite_path)
        if PG_URL:
            name = "xf_run_" + uuid.uuid4().hex[:10]
            await _pg_admin(f'CREATE DATABASE "{name}"')
            eng = create_engine(_pg_database_url(name))
            await create_all(eng)
            await eng.dispose()
            templates["postgresql"] = name

    asyncio.run(build())
    yield templates
    if "postgresql" in templates:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{templates["postgresql"]}" WITH (FORCE)'))


def _pg_database_url(name: str) -> str:
    assert PG_URL is not None
    return PG_URL.rsplit("/", 1)[0] + "/" + name


async def _pg_admin(statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE) on the configured server."""
    assert PG_URL is not None
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


async def _pg_empty(eng: AsyncEngine) -> None:
    """Every table empty and every id sequence back at 1, as if the schema were new."""
    async with eng.begin() as conn:
        # Replica mode skips triggers: the data-map counters are emptied like every other table.
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())
        sequences = (await conn.execute(text(
            "SELECT schemaname, sequencename FROM pg_sequences WHERE schemaname = current_schema()"))).all()
        for schema, sequence in sequences:
            await conn.execute(text(f'ALTER SEQUENCE "{schema}"."{sequence}" RESTART'))


@pytest.fixture(params=BACKENDS)
async def engine(
    request: pytest.FixtureRequest, tmp_path: Path, schema_templates: dict[str, str]
) -> AsyncIterator[AsyncEngine]:
    """A database with the whole schema and no rows, on each configured backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(schema_templates["sqlite"], path)
        eng = create_engine(f"sqlite+aiosqlite:///{path}")
        yield eng
        await eng.dispose()
        return
    eng = create_engine(_pg_database_url(schema_templates["postgresql"]), pool_size=20, max_overflow=40)
    await _pg_empty(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory on the test database."""
    return session_factory(engine)


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session on the test database."""
    async with sessions() as s:
        yield s


@pytest.fixture
def clock() -> FixedClock:
    """A clock set to a Saturday morning in Beijing time (2026-11-28 09:00 +08:00 = 01:00 UTC)."""
    return FixedClock(datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc))


@pytest.fixture
async def redis_client() -> AsyncIterator[object]:
    """A Redis client on the configured test server, or skip when none is configured."""
    if not REDIS_URL:
        pytest.skip("XINFENG_TEST_REDIS_URL not set")
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


def unique_prefix() -> str:
    """A key prefix no other test uses."""
    return f"xinfeng-test:{uuid.uuid4().hex[:10]}:"


# ---------------------------------------------------------------------------
# A small network and a fake channel for handler tests.
# ---------------------------------------------------------------------------

from dataclasses import dataclass, field  # noqa: E402

from sqlalchemy import select  # noqa: E402

from bot.delivery.relay import Relay  # noqa: E402
from handlers.app import build_dispatcher  # noqa: E402
from handlers.core.engine import Engine  # noqa: E402
from handlers.core.messages import InboundMessage, OutboundMessage  # noqa: E402
from storage.messaging.outcomes import Delivered  # noqa: E402
from storage.models import OrgUnit, Person, RoleGrant, Team, TeamMember  # noqa: E402
from storage.people.identities import link_identity  # noqa: E402

TZ_NAME = "Asia/Shanghai"


async def build_network(session: AsyncSession, now: datetime) -> dict[str, int]:
    """A county with two institutes, three villages, teams at every level, and their people.

    北票 center ── 城关街道 institute ── 蓬莱社区 station, 杨树村 station
               └── 台吉镇 institute ── 台吉村 station
    (and a point, 蓬莱社区道德讲堂, under 蓬莱社区)
    """
    ids: dict[str, int] = {}

    async def unit(code: str, name: str, level: str, parent: str | None) -> None:
        u = OrgUnit(code=code, name=name, level=level, parent_id=ids.get(parent) if parent else None)
        session.add(u)
        await session.flush()
        parent_path = (await session.get(OrgUnit, ids[parent])).path if parent else "/"
        u.path = f"{parent_path}{u.id}/"
        ids[code] = u.id

    await unit("LN", "辽宁省", "province", None)
    await unit("BP", "北票市新时代文明实践中心", "center", "LN")
    await unit("CG", "城关街道新时代文明实践所", "institute", "BP")
    await unit("PL", "蓬莱社区新时代文明实践站", "station", "CG")
    await unit("YS", "杨树村新时代文明实践站", "station", "CG")
    await unit("TJ", "台吉镇新时代文明实践所", "institute", "BP")
    await unit("TJC", "台吉村新时代文明实践站", "station", "TJ")
    await unit("PLP", "蓬莱社区道德讲堂文明实践点", "point", "PL")

    async def team(code: str, name: str, org: str, cats: str) -> None:
        t = Team(code=code, name=name, org_unit_id=ids[org], categories=f"|{cats}|", invite_code=code + "2026")
        session.add(t)
        await session.flush()
        ids[code] = t.id

    await team("KJ", "科技服务队", "BP", "农业技术")
    await team("WY", "文艺志愿服务队", "BP", "文化文艺")
    await team("ZH", "城关综合服务分队", "CG", "生活帮扶|助老助残")
    await team("PLD", "蓬莱社区志愿服务队", "PL", "助老助残")
    await team("TJD", "台吉村志愿服务队", "TJC", "助老助残|生活帮扶")

    async def person(name: str, phone: str, org: str, teams: tuple[str, ...] = (), resident: bool = False) -> None:
        p = Person(name=name, phone=phone, org_unit_id=ids[org], is_resident=resident,
                   is_volunteer=bool(teams), created_at=now)
        session.add(p)
        await session.flush()
        ids[name] = p.id
        for t in teams:
            session.add(TeamMember(team_id=ids[t], person_id=p.id))

    await person("王大娘", "13900000001", "PL", resident=True)
    await person("李大爷", "13900000002", "TJC", resident=True)
    await person("姜兆彤", "13900000011", "BP", ("KJ",))
    await person("刘农技", "13900000012", "BP", ("KJ",))
    await person("孙科技", "13900000013", "BP", ("KJ",))
    await person("张文艺", "13900000014", "BP", ("WY",))
    await person("赵志愿", "13900000015", "PL", ("PLD", "ZH"))
    await person("钱志愿", "13900000016", "PL", ("PLD",))
    await person("周台吉", "13900000017", "TJC", ("TJD",))
    await person("陈刚", "13900000020", "BP", ("KJ",))
    await person("蓬莱站长", "13900000030", "PL")
    await person("城关所长", "13900000031", "CG")
    await person("中心管理员", "13900000032", "BP")
    await person("台吉站长", "13900000033", "TJC")
    for who, role, scope in [
        ("蓬莱站长", "admin", "PL"), ("城关所长", "admin", "CG"), ("中心管理员", "admin", "BP"),
        ("台吉站长", "admin", "TJC"),
    ]:
        session.add(RoleGrant(person_id=ids[who], role=role, org_unit_id=ids[scope]))
    session.add(RoleGrant(person_id=ids["陈刚"], role="captain", team_id=ids["KJ"]))
    await session.commit()
    return ids


class RecordingChannel:
    """A fake channel that keeps every message the bot sends, per recipient."""

    platform = "test"

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> Delivered:
        self.sent.append(message)
        return Delivered(str(len(self.sent)))


@dataclass
class ChatHarness:
    """Send text as a named person; read what the bot sent to whom (errbot's testbot shape)."""

    sessions: async_sessionmaker[AsyncSession]
    clock: FixedClock
    ids: dict[str, int]
    channel: RecordingChannel = field(default_factory=RecordingChannel)
    _seq: int = 0

    def __post_init__(self) -> None:
        from zoneinfo import ZoneInfo

        self.engine = Engine(sessions=self.sessions, clock=self.clock, dispatcher=build_dispatcher(),
                             tz=ZoneInfo(TZ_NAME))
        self.relay = Relay(self.sessions, self.clock, [self.channel], unaddressed=self.channel)

    async def person_id(self, name: str) -> int:
        if name not in self.ids:
            async with self.sessions() as s:
                p = (await s.execute(select(Person).where(Person.name == name))).scalars().first()
                if p is None:
                    p = Person(name=name, created_at=self.clock.now())
                    s.add(p)
                    await s.flush()
                await link_identity(s, platform="test", external_id=f"u{p.id}", person_id=p.id, now=self.clock.now())
                await s.commit()
                self.ids[name] = p.id
        else:
            async with self.sessions() as s:
                await link_identity(s, platform="test", external_id=f"u{self.ids[name]}",
                                    person_id=self.ids[name], now=self.clock.now())
                await s.commit()
        return self.ids[name]

    async def send(self, name: str, text: str, *, message_id: str | None = None) -> list[OutboundMessage]:
        """Send a private message as `name`; return everything the bot sent because of it."""
        pid = await self.person_id(name)
        self._seq += 1
        msg = InboundMessage(platform="test", user_id=f"u{pid}", chat_id=f"u{pid}", text=text,
                             message_id=message_id or f"m{self._seq}", user_name=name)
        before = len(self.channel.sent)
        await self.engine.handle(msg)
        await self.relay.deliver_pending()
        return self.channel.sent[before:]

    def to(self, name: str, out: list[OutboundMessage]) -> list[str]:
        """Texts among `out` addressed to a person."""
        pid = self.ids[name]
        return [m.text for m in out if m.person_id == pid]

    def last_to(self, name: str, out: list[OutboundMessage]) -> str:
        texts = self.to(name, out)
        assert texts, f"nothing was sent to {name}; sent: {[(m.recipient_label, m.text) for m in out]}"
        return texts[-1]


@pytest.fixture
async def chat(sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> ChatHarness:
    """A chat harness on a fresh small network."""
    async with sessions() as s:
        ids = await build_network(s, clock.now())
    return ChatHarness(sessions, clock, ids)
