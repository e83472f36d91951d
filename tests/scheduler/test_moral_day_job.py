"""The moral activity day job: on time, group-first, the day's activities listed, exactly once."""

from __future__ import annotations

from sqlalchemy import select

from scheduler.runner import run_due
from storage.models.scheduling import ScheduleFiring
from storage.scheduling.recurrence import Recurrence
from storage.scheduling.rules import MORAL_DAY, set_rule


async def _run(world, when):
    world.clock.set(when)
    return await run_due(world.sessions, when, tz=world.tz)


async def test_fires_at_eight_on_the_fifth_group_first_and_only_once(world) -> None:
    w = world
    assert (await _run(w, w.at(12, 5, 7, 59)))["moral_day"] == 0
    assert (await _run(w, w.at(12, 5, 8, 0)))["moral_day"] == 5
    assert (await _run(w, w.at(12, 5, 8, 0)))["moral_day"] == 0
    assert (await _run(w, w.at(12, 5, 9, 0)))["moral_day"] == 0
    rows = await w.scheduled(MORAL_DAY)
    assert rows[0].address == "g-kj" and rows[0].person_id is None  # the group first
    # 科技服务队's members are in its group; everyone else opted in gets one direct message.
    assert sorted(r.recipient_label for r in rows[1:]) == sorted(["张文艺", "赵志愿", "钱志愿", "周台吉"])
    assert all("12月5日（星期六）是北票市的道德活动日" in r.text for r in rows)
    assert await w.duplicates() == []


async def test_the_message_lists_that_days_planned_activities_in_the_region(world) -> None:
    w = world
    await w.add_activity("PLD", "包饺子送老人", w.at(12, 5, 9), ["赵志愿"])
    await w.add_activity("TJD", "清扫村道", w.at(12, 5, 14), [])
    await w.add_activity("WY", "文艺演出", w.at(12, 6, 9), [])  # the next day: not listed
    await _run(w, w.at(12, 5, 8))
    text = (await w.scheduled(MORAL_DAY))[0].text
    assert "09:00 包饺子送老人 @村文化广场（蓬莱社区志愿服务队）报名 #1" in text
    assert "14:00 清扫村道" in text and "文艺演出" not in text
    assert text.index("包饺子") < text.index("清扫村道")


async def test_a_rule_set_after_the_hour_is_owed_from_next_month(world) -> None:
    w = world
    w.clock.set(w.at(12, 5, 8, 30))
    async with w.sessions() as s:
        await set_rule(session=s, unit_id=w.ids["TJ"], job=MORAL_DAY, recurrence=Recurrence(hour=8, day_of_month=5),
                       now=w.clock.now())
        await s.commit()
    done = await _run(w, w.at(12, 5, 8, 30))
    # 北票 (minus 台吉镇, which now has its own rule) is sent; 台吉镇's rule starts next month.
    assert done["moral_day"] == 4
    assert "周台吉" not in [r.recipient_label for r in await w.scheduled(MORAL_DAY)]
    assert (await _run(w, w.at(1, 5, 8, year=2027)))["moral_day"] == 5


async def test_a_31st_rule_fires_on_the_28th_of_february(world) -> None:
    w = world
    async with w.sessions() as s:
        await set_rule(session=s, unit_id=w.ids["BP"], job=MORAL_DAY, recurrence=Recurrence(hour=8, day_of_month=31),
                       now=w.at(2, 1, year=2027))
        await s.commit()
    assert (await _run(w, w.at(2, 28, 7, 59, year=2027)))["moral_day"] == 0
    assert (await _run(w, w.at(2, 28, 8, year=2027)))["moral_day"] == 5
    assert (await _run(w, w.at(3, 1, 8, year=2027)))["moral_day"] == 0
    async with w.sessions() as s:
        periods = (await s.execute(select(ScheduleFiring.period).where(ScheduleFiring.job == MORAL_DAY))).scalars()
        assert list(periods) == ["2027-02-28"]


async def test_late_after_downtime_is_marked_and_too_late_is_dropped(world) -> None:
    w = world
    assert (await _run(w, w.at(12, 7, 10)))["moral_day"] == 5  # two days late: sent, once
    assert all(r.text.startswith("🌟（补发）") for r in await w.scheduled(MORAL_DAY))
    # A month later, a down-for-a-week bot does not send the 5 January reminder on the 13th.
    assert (await _run(w, w.at(1, 13, 10, year=2027)))["moral_day"] == 0


async def test_a_switched_off_subtree_gets_nothing(world) -> None:
    w = world
    async with w.sessions() as s:
        await set_rule(session=s, unit_id=w.ids["CG"], job=MORAL_DAY, recurrence=None, now=w.clock.now())
        await s.commit()
    await _run(w, w.at(12, 5, 8))
    labels = [r.recipient_label for r in await w.scheduled(MORAL_DAY)]
    assert "赵志愿" not in labels and "钱志愿" not in labels  # 城关街道's 蓬莱社区 team
    assert "周台吉" in labels
