"""The cluster's data: a PostgreSQL database of its own, and the people, team and activity
imported into it the way a county's rosters are (`tests/faults/cluster.py`)."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the bench imports this file from outside the test run
    sys.path.insert(0, str(ROOT))

TZ = ZoneInfo("Asia/Shanghai")
DEMO_DIR = ROOT / "bot" / "demo"
UNIT = "BP-TJ-BS"  # 北山村: a station with no demo volunteers — the cluster's people are alone there
TEAM = "BP-TJ-BS-D"
FIRST_USER = 8_100_000


async def _admin(pg_url: str, statement: str) -> None:
    from storage.db import create_engine

    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


def _roster_dir(workdir: Path, people: int) -> Path:
    """The demo county's sheets, plus a team at 北山村 and `people` volunteers in it."""
    roster = workdir / "roster"
    roster.mkdir()
    for sheet in DEMO_DIR.glob("*.csv"):
        shutil.copy(sheet, roster / sheet.name)
    with (roster / "teams.csv").open("a") as f:
        f.write(f"{TEAM},北山村志愿服务队,{UNIT},生活帮扶|环境整治,,BS2026\n")
    with (roster / "volunteers.csv").open("a") as f:
        for i in range(people):
            f.write(f"集群志愿者{i:03d},1390200{i:04d},{UNIT},{TEAM},,否\n")
    return roster


@dataclass
class Seeded:
    """What the seed made: each Telegram user's person, the activity to sign up for."""

    person_of: dict[int, int]
    activity_id: int


async def seed(url: str, workdir: Path, people: int, *, moral_day_now: bool = False) -> Seeded:
    """Import the roster, link each volunteer to a Telegram account, create an activity.

    With `moral_day_now`, 北山村's moral activity day falls due a minute ago (its rule set, and
    the installation's first run recorded, before that): the leader's first tick owes it.
    """
    from storage.activities.activities import create_activity
    from storage.db import create_engine, session_factory
    from storage.models import OrgUnit, Person, Team
    from storage.people.identities import link_identity
    from storage.roster.importing import import_directory

    engine = create_engine(url)
    sessions = session_factory(engine)
    now = datetime.now(timezone.utc)
    try:
        report = await import_directory(session_factory=sessions, directory=_roster_dir(workdir, people), now=now)
        assert report.ok, report.errors
        async with sessions() as s:
            rows = (await s.execute(select(Person.id, Person.name).where(Person.name.like("集群志愿者%"))
                                    .order_by(Person.name))).all()
            assert len(rows) == people, len(rows)
            person_of = {}
            for i, (pid, _name) in enumerate(rows):
                uid = FIRST_USER + i
                await link_identity(s, platform="telegram", external_id=str(uid), person_id=pid, now=now)
                person_of[uid] = pid
            team = (await s.execute(select(Team).where(Team.code == TEAM))).scalar_one()
            starts = now + timedelta(days=3)
            activity = await create_activity(session=s, team_id=team.id, org_unit_id=team.org_unit_id,
                                             title="北山村环境整治", starts_at=starts,
                                             ends_at=starts + timedelta(hours=2), now=now, created_by_id=None,
                                             place="北山村村委会")
            if moral_day_now:
                from storage.scheduling.installation import record_first_run
                from storage.scheduling.recurrence import Recurrence
                from storage.scheduling.rules import MORAL_DAY, set_rule

                due = (now - timedelta(minutes=1)).astimezone(TZ)
                unit = (await s.execute(select(OrgUnit).where(OrgUnit.code == UNIT))).scalar_one()
                await set_rule(session=s, unit_id=unit.id, job=MORAL_DAY,
                               recurrence=Recurrence(hour=due.hour, minute=due.minute, day_of_month=due.day),
                               now=due - timedelta(minutes=1))
                await record_first_run(s, due - timedelta(minutes=10))
            await s.commit()
            return Seeded(person_of, activity.id)
    finally:
        await engine.dispose()


