"""`xinfeng jobs list`: upcoming firings, and what is owed but not yet sent, read from the database."""

from __future__ import annotations

from scheduler.runner import run_due
from scheduler.upcoming import upcoming


async def test_upcoming_firings_in_order_with_overdue_ones_flagged(world) -> None:
    w = world
    act = await w.add_activity("PLD", "包饺子送老人", w.at(12, 5, 9), ["赵志愿"])
    await w.chat.send("王大娘", "奶奶想请人来帮忙理个发")
    await w.chat.send("王大娘", "确认")  # dispatched at 09:00 on the 28th: escalates at 11:00
    async with w.sessions() as s:
        firings = await upcoming(s, w.at(11, 28, 9, 30), w.tz, days=8)
    seen = [(f.at.astimezone(w.tz).strftime("%m-%d %H:%M"), f.job) for f in firings]
    assert seen == [
        ("11-28 11:00", "escalate"),
        ("11-30 08:00", "captain_digest"),
        ("11-30 09:00", "wish_reminder"),
        ("11-30 18:00", "pairing_report"),  # the last day of November
        ("12-01 09:00", "admin_report"),
        ("12-04 09:00", "activity_reminder"),
        ("12-05 08:00", "activity_reminder"),
        ("12-05 08:00", "moral_day"),
    ]
    assert f"#{act}「包饺子送老人」24h，1 人已报名" == firings[5].what
    assert not any(f.overdue for f in firings)

    # Down over the 5th: the moral day is owed (and flagged) until it is sent.
    async with w.sessions() as s:
        late = [f for f in await upcoming(s, w.at(12, 6, 10), w.tz, days=1) if f.job == "moral_day"]
    assert late[0].overdue and late[0].at == w.at(12, 5, 8)
    await run_due(w.sessions, w.at(12, 6, 10), tz=w.tz)
    async with w.sessions() as s:
        assert not [f for f in await upcoming(s, w.at(12, 6, 10), w.tz, days=1) if f.overdue]
