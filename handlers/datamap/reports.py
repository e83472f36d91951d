"""Texts of the scheduled messages: activity reminders, the captains' weekly digest, the admins' monthly report.

Short, friendly, Chinese first, like every reply; the scheduler fills them with figures it
reads in SQL, so these functions only format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal

from handlers.core.texts import hours_text
from storage.scheduling.recurrence import WEEKDAY_ZH


def _clock(at: datetime, tz: tzinfo) -> str:
    loc = at.astimezone(tz)
    return f"{loc.month}月{loc.day}日（周{WEEKDAY_ZH[loc.weekday()]}）{loc.hour:02d}:{loc.minute:02d}"


def activity_reminder_text(activity_id: int, title: str, place: str | None, starts_at: datetime, team_name: str,
                           stage: str, now: datetime, tz: tzinfo) -> str:
    """The reminder a signed-up volunteer gets 24 h or 1 h before an activity."""
    where = f"\n地点：{place}" if place else ""
    if stage == "1h":
        minutes = max(1, int((starts_at - now).total_seconds() // 60))
        when = f"{minutes} 分钟后" if minutes < 60 else "1 小时后"
        return (f"⏰ 活动提醒：「{title}」{when}开始（{_clock(starts_at, tz)}）{where}\n"
                f"组织：{team_name}\n到场后请向队长要签到码，回复：签到 #{activity_id} 签到码")
    return (f"⏰ 活动提醒：您报名的「{title}」将于 {_clock(starts_at, tz)} 开始{where}\n"
            f"组织：{team_name}\n如不能参加，请回复：取消报名 #{activity_id}")


@dataclass
class TeamWeek:
    """One team's figures for the captains' digest."""

    name: str
    members: int = 0
    open_task_ids: list[int] = field(default_factory=list)
    closed_last_week: int = 0
    hours_last_week: Decimal = Decimal(0)
    activities: list[tuple[int, str, datetime, int, int | None]] = field(default_factory=list)  # id, title, start, signed, cap


def captain_digest_text(monday: date, teams: Sequence[TeamWeek], tz: tzinfo) -> str:
    """The Monday digest for a captain: each of their teams' open tasks, last week's work, this week's activities."""
    lines = [f"📋 队伍周报（{monday.month}月{monday.day}日）"]
    for team in teams:
        lines.append(f"「{team.name}」队员 {team.members} 人")
        if team.open_task_ids:
            refs = "、".join(f"#{t}" for t in team.open_task_ids[:5])
            more = f" 等 {len(team.open_task_ids)} 个" if len(team.open_task_ids) > 5 else ""
            lines.append(f"· 待接任务：{refs}{more}，请提醒队员接单")
        else:
            lines.append("· 没有待接的任务")
        lines.append(f"· 上周完成任务 {team.closed_last_week} 个，服务 {hours_text(team.hours_last_week)} 小时")
        if team.activities:
            for aid, title, start, signed, cap in team.activities[:5]:
                quota = f"{signed}/{cap}" if cap else f"{signed}"
                lines.append(f"· 本周活动 #{aid}「{title}」{_clock(start, tz)}，已报名 {quota}")
        else:
            lines.append("· 本周还没有活动，发「活动 描述」即可发起")
    return "\n".join(lines)


@dataclass
class UnitMonth:
    """One unit subtree's figures for the admins' monthly report."""

    name: str
    created: int = 0
    closed: int = 0
    still_open: int = 0
    hours: Decimal = Decimal(0)
    activities: int = 0


def admin_report_text(month: date, units: Sequence[UnitMonth]) -> str:
    """The report an admin gets on the 1st: last month's work in each subtree they administer."""
    lines = [f"📊 {month.year}年{month.month}月工作月报"]
    for u in units:
        lines.append(f"【{u.name}】")
        lines.append(f"新增任务 {u.created} 个，完成 {u.closed} 个，目前未完成 {u.still_open} 个")
        lines.append(f"服务时长 {hours_text(u.hours)} 小时，开展活动 {u.activities} 场")
    lines.append("详细数据：发送「统计」。")
    return "\n".join(lines)


def pairing_reminder_text(month: int, households: Sequence[str]) -> str:
    """The 20th-of-the-month reminder to a paired volunteer: the households not visited yet."""
    names = "、".join(households[:10]) + (f" 等 {len(households)} 户" if len(households) > 10 else "")
    return (f"🏠 结对帮扶提醒：{month}月还没有走访 {names}。\n"
            f"走访后请回复：走访 户名 情况，例如：走访 {households[0] if households else '王大娘'} 解决了取暖问题")


def pairing_report_text(month: int, stations: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> str:
    """The month-end report to a station admin: pairings with no visit this month."""
    total = sum(len(rows) for _, rows in stations)
    lines = [f"📋 {month}月结对帮扶：{total} 户本月未走访"]
    for station, rows in stations:
        lines.append(f"【{station}】")
        lines.extend(f"· {household}（结对志愿者：{volunteer}）" for household, volunteer in rows[:20])
        if len(rows) > 20:
            lines.append(f"…… 另有 {len(rows) - 20} 户")
    return "\n".join(lines)


def wish_reminder_text(wishes: Sequence[tuple[int, str, str]]) -> str:
    """The weekly reminder to a volunteer who claimed a wish more than a week ago."""
    lines = ["🎁 微心愿提醒：您认领的心愿还没有完成"]
    lines.extend(f"· #{wid} {household}：{description[:30]}" for wid, household, description in wishes[:10])
    lines.append("完成后请回复：实现 #心愿号 并附上照片。")
    return "\n".join(lines)
