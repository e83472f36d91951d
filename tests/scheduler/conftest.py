"""A county with a moral-day rule, a bound group, activities and sign-ups — and helpers to read the outbox.

Built on the root `chat` fixture's small network (北票 center, 城关/台吉 institutes, villages).
The clock starts on Saturday 2026-11-28 09:00 Beijing time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage.models import OutboxMessage, TeamGroup
from storage.models.activities import Activity, ActivitySignup
from storage.scheduling.installation import record_first_run
from storage.scheduling.recurrence import Recurrence
from storage.scheduling.rules import MORAL_DAY, set_rule

TZ = ZoneInfo("Asia/Shanghai")
SCHEDULED = ("moral_day", "activity_reminder", "captain_digest", "admin_report")


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    """An instant in Beijing time."""
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


@dataclass
class World:
    """The test county and ways to look at what the scheduler owed and sent."""

    chat: object
    ids: dict[str, int]
    tz = TZ

    @staticmethod
    def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
        """An instant in Beijing time."""
        return at(month, day, hour, minute, year)

    @property
    def sessions(self):  # noqa: ANN201 — the harness's session factory
        return self.chat.sessions

    @property
    def clock(self):  # noqa: ANN201
        return self.chat.clock

    async def add_activity(self, team: str, title: str, starts: datetime, signed: list[str],
                           signed_at: datetime | None = None, unit: str | None = None) -> int:
        """A planned two-hour activity of a team, with volunteers signed up (at the clock's now by default)."""
        async with self.sessions() as s:
            act = Activity(team_id=self.ids[team], org_unit_id=self.ids[unit or _TEAM_UNIT[team]], title=title,
                           place="村文化广场", starts_at=starts, ends_at=starts + timedelta(hours=2), capacity=20,
                           checkin_code="1234", status="planned", created_at=self.clock.now())
            s.add(act)
            await s.flush()
            for name in signed:
                s.add(ActivitySignup(activity_id=act.id, volunteer_id=self.ids[name], status="signed",
                                     signed_at=signed_at or self.clock.now()))
            await s.commit()
            return act.id

    async def scheduled(self, *kinds: str) -> list[OutboxMessage]:
        """Every scheduled message (of the given kinds) in the outbox, oldest first."""
        async with self.sessions() as s:
            return list((await s.execute(
                select(OutboxMessage).where(OutboxMessage.kind.in_(kinds or SCHEDULED)).order_by(OutboxMessage.id)
            )).scalars())

    async def duplicates(self) -> list[tuple[object, ...]]:
        """Scheduled messages sent twice to the same recipient for the same thing (should be none)."""
        rows = await self.scheduled()
        keys = Counter((r.kind, r.ref, r.person_id, r.address if r.person_id is None else None) for r in rows)
        return [k for k, n in keys.items() if n > 1]


_TEAM_UNIT = {"KJ": "BP", "WY": "BP", "ZH": "CG", "PLD": "PL", "TJD": "TJC"}


@pytest.fixture
async def world(chat) -> World:
    """北票 with the moral day on the 5th at 08:00 (set now), and the 科技服务队 group bound.

    The installation has run since then (its first run is recorded), so a test that first runs
    the jobs days later sees what fell due meanwhile as owed, as after downtime.
    """
    chat.clock.set(at(11, 28, 9))
    async with chat.sessions() as s:
        await record_first_run(s, chat.clock.now())
        await set_rule(session=s, unit_id=chat.ids["BP"], job=MORAL_DAY, recurrence=Recurrence(hour=8, day_of_month=5),
                       now=chat.clock.now())
        s.add(TeamGroup(team_id=chat.ids["KJ"], platform="test", chat_id="g-kj", title="科技服务队群"))
        await s.commit()
    return World(chat, chat.ids)
