"""Texts of the scheduled reports: the captains' weekly digest and the admins' monthly report.

Short, friendly, Chinese first, like every reply; the scheduler fills them with figures
storage reads in SQL (`storage.scheduling.digests`), so these functions only format. The
reminders' texts live with their features: `handlers.activities.reminders` and
`handlers.programmes.reminders`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo

from handlers.core.texts import hours_text
from storage.scheduling.digests import TeamWeek, UnitMonth
from storage.scheduling.recurrence import WEEKDAY_ZH


def day_and_time(at: datetime, tz: tzinfo) -> str:
    """12月5日（周六）09:00, in the region's time zone."""
    loc = at.astimezone(tz)
    return f"{loc.month}月{loc.day}日（周{WEEKDAY_ZH[loc.weekday()]}）{loc.hour:02d}:{loc.minute:02d}"


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
                lines.append(f"· 本周活动 #{aid}「{title}」{day_and_time(start, tz)}，已报名 {quota}")
        else:
            lines.append("· 本周还没有活动，发「活动 描述」即可发起")
    return "\n".join(lines)


def admin_report_text(month: date, units: Sequence[UnitMonth]) -> str:
    """The report an admin gets on the 1st: last month's work in each subtree they administer."""
    lines = [f"📊 {month.year}年{month.month}月工作月报"]
    for u in units:
        lines.append(f"【{u.name}】")
        lines.append(f"新增任务 {u.created} 个，完成 {u.closed} 个，目前未完成 {u.still_open} 个")
        lines.append(f"服务时长 {hours_text(u.hours)} 小时，开展活动 {u.activities} 场")
    lines.append("详细数据：发送「统计」。")
    return "\n".join(lines)
