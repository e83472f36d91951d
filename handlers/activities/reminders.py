"""The activity reminder's text: what a signed-up volunteer gets 24 hours and 1 hour before (PRODUCT.md §4).

The scheduler (`scheduler/jobs/reminders.py`) decides which reminder is owed and to whom;
this only formats it.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from handlers.datamap.reports import day_and_time


def activity_reminder_text(activity_id: int, title: str, place: str | None, starts_at: datetime, team_name: str,
                           stage: str, now: datetime, tz: tzinfo) -> str:
    """The reminder a signed-up volunteer gets 24 h or 1 h before an activity."""
    where = f"\n地点：{place}" if place else ""
    if stage == "1h":
        minutes = max(1, int((starts_at - now).total_seconds() // 60))
        when = f"{minutes} 分钟后" if minutes < 60 else "1 小时后"
        return (f"⏰ 活动提醒：「{title}」{when}开始（{day_and_time(starts_at, tz)}）{where}\n"
                f"组织：{team_name}\n到场后请向队长要签到码，回复：签到 #{activity_id} 签到码")
    return (f"⏰ 活动提醒：您报名的「{title}」将于 {day_and_time(starts_at, tz)} 开始{where}\n"
            f"组织：{team_name}\n如不能参加，请回复：取消报名 #{activity_id}")
