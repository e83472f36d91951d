"""Pairing reminders on the 20th, the month-end report to station admins, and overdue-wish reminders."""

from __future__ import annotations

from scheduler.runner import run_due
from storage.models.pairings import Pairing, PairingVisit
from storage.models.wishes import Wish


async def _pair(w, volunteer: str, unit: str, household: str) -> int:
    async with w.sessions() as s:
        p = Pairing(volunteer_id=w.ids[volunteer], org_unit_id=w.ids[unit], household_name=household, active=True,
                    created_at=w.at(11, 1))
        s.add(p)
        await s.commit()
        return p.id


async def _run(w, when) -> dict[str, int]:
    w.clock.set(when)
    return await run_due(w.sessions, when, tz=w.tz)


async def test_unvisited_households_are_reminded_on_the_20th_and_reported_on_the_last_day(world) -> None:
    w = world
    await _pair(w, "赵志愿", "PL", "王大娘")
    await _pair(w, "赵志愿", "TJC", "李大爷")
    visited = await _pair(w, "钱志愿", "PL", "张奶奶")
    await _pair(w, "钱志愿", "YS", "孙大爷")  # 杨树村 has no admin: 城关街道's does the chasing
    async with w.sessions() as s:
        s.add(PairingVisit(pairing_id=visited, visited_at=w.at(12, 3, 10), note="送了棉被", problems_solved=1))
        s.add(PairingVisit(pairing_id=visited, visited_at=w.at(11, 3, 10), note="上个月", problems_solved=0))
        await s.commit()

    assert (await _run(w, w.at(12, 20, 8, 59)))["pairing_reminder"] == 0
    assert (await _run(w, w.at(12, 20, 9)))["pairing_reminder"] == 2
    assert (await _run(w, w.at(12, 20, 10)))["pairing_reminder"] == 0
    sent = {r.recipient_label: r.text for r in await w.scheduled("pairing_reminder")}
    assert set(sent) == {"赵志愿", "钱志愿"}
    assert "12月还没有走访 王大娘、李大爷" in sent["赵志愿"]
    assert "孙大爷" in sent["钱志愿"] and "张奶奶" not in sent["钱志愿"]

    assert (await _run(w, w.at(12, 31, 17, 59)))["pairing_report"] == 0
    assert (await _run(w, w.at(12, 31, 18)))["pairing_report"] == 3
    assert (await _run(w, w.at(12, 31, 18)))["pairing_report"] == 0
    reports = {r.recipient_label: r.text for r in await w.scheduled("pairing_report")}
    assert set(reports) == {"蓬莱站长", "台吉站长", "城关所长"}
    assert "王大娘（结对志愿者：赵志愿）" in reports["蓬莱站长"] and "李大爷" not in reports["蓬莱站长"]
    assert "李大爷（结对志愿者：赵志愿）" in reports["台吉站长"]
    assert "孙大爷（结对志愿者：钱志愿）" in reports["城关所长"]
    assert await w.duplicates() == []


async def test_the_month_end_report_comes_on_the_28th_of_february_and_after_downtime(world) -> None:
    w = world
    await _pair(w, "赵志愿", "PL", "王大娘")
    assert (await _run(w, w.at(2, 28, 18, year=2027)))["pairing_report"] == 1
    # Down over the 31 March report; back on 2 April it is still sent, for March.
    assert (await _run(w, w.at(4, 2, 9, year=2027)))["pairing_report"] == 1
    texts = [r.text for r in await w.scheduled("pairing_report")]
    assert texts[0].startswith("📋 2月结对帮扶") and texts[1].startswith("📋 3月结对帮扶")


async def test_a_wish_claimed_over_a_week_ago_is_reminded_on_monday(world) -> None:
    w = world
    async with w.sessions() as s:
        for who, claimed in (("钱志愿", w.at(11, 30, 8)), ("赵志愿", w.at(12, 3, 8))):
            s.add(Wish(org_unit_id=w.ids["PL"], household="王大娘", description="想要一台收音机", status="claimed",
                       submitted_by_id=w.ids["蓬莱站长"], created_at=w.at(11, 20), claimed_by_id=w.ids[who],
                       claimed_at=claimed))
        await s.commit()
    assert (await _run(w, w.at(12, 7, 9)))["wish_reminder"] == 1
    assert (await _run(w, w.at(12, 7, 12)))["wish_reminder"] == 0
    (reminder,) = await w.scheduled("wish_reminder")
    assert reminder.recipient_label == "钱志愿" and "#1 王大娘：想要一台收音机" in reminder.text
