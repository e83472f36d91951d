"""A new installation sends nothing for periods before it first ran (issue 14); what falls due after, it sends.

Here the installation is new: unlike the `world` fixture, nothing says it ran before. The small
county has one captain (陈刚) and four admins.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from scheduler.runner import run_due
from storage.models import OutboxMessage
from storage.models.scheduling import Installation
from storage.scheduling.installation import first_run

TZ = ZoneInfo("Asia/Shanghai")
STALE = ("captain_digest", "admin_report", "pairing_report", "pairing_reminder", "wish_reminder", "moral_day",
         "activity_reminder")


def _at(month: int, day: int, hour: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=TZ)


async def _run(chat, when: datetime) -> dict[str, int]:
    chat.clock.set(when)
    return await run_due(chat.sessions, when, tz=TZ)


async def _sent(chat, kind: str) -> list[OutboxMessage]:
    async with chat.sessions() as s:
        return list((await s.execute(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))).scalars())


async def test_a_fresh_installation_on_1_december_sends_no_november_report_but_decembers(chat) -> None:
    # First start on 1 December at 10:00: November's report fell due at 09:00, Monday's digest
    # on 30 November, the month-end pairing report on the 30th — all before it existed.
    done = await _run(chat, _at(12, 1, 10))
    assert [job for job in STALE if done[job] != 0] == []
    async with chat.sessions() as s:
        assert await first_run(s) == _at(12, 1, 10)
        rows = (await s.execute(select(OutboxMessage.kind))).scalars().all()
    assert not [k for k in rows if k in STALE]

    # A restart later that day records nothing new and still owes nothing stale.
    assert (await _run(chat, _at(12, 1, 15)))["admin_report"] == 0
    async with chat.sessions() as s:
        assert await first_run(s) == _at(12, 1, 10)

    # What falls due after the first start goes out: Monday's digest, and December's report on 1 January.
    assert (await _run(chat, _at(12, 7, 8)))["captain_digest"] == 1
    digest = await _sent(chat, "captain_digest")
    assert [r.recipient_label for r in digest] == ["陈刚"] and "12月7日" in digest[0].text
    assert (await _run(chat, _at(1, 1, 9, year=2027)))["admin_report"] == 4
    reports = await _sent(chat, "admin_report")
    assert len(reports) == 4 and all(r.text.startswith("📊 2026年12月工作月报") for r in reports)


async def test_a_first_start_at_the_hour_itself_sends_what_falls_due_then(chat) -> None:
    # Started on the dot: the occurrence is not before the first run, so it is owed.
    assert (await _run(chat, _at(12, 7, 8)))["captain_digest"] == 1
    assert (await _run(chat, _at(1, 1, 9, year=2027)))["admin_report"] == 4


async def test_several_workers_starting_at_once_record_one_first_run(chat) -> None:
    # Four schedulers start together (no lease): one row, one instant, and nothing stale sent by any.
    results = await asyncio.gather(*(run_due(chat.sessions, _at(12, 1, 10), tz=TZ) for _ in range(4)))
    assert all(r["admin_report"] == 0 and r["captain_digest"] == 0 for r in results)
    async with chat.sessions() as s:
        assert len((await s.execute(select(Installation))).scalars().all()) == 1
        assert await first_run(s) == _at(12, 1, 10)
