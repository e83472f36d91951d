"""How activities are written in replies ("活动 #3"), and finding the one a command names.

Activities have numbers of their own, apart from tasks; replies always say "活动 #3" so a
volunteer never mistakes one for task #3, and commands accept "#3", "3号" or "3". The texts
that actions send (an activity's card) take the region's time zone rather than a handler's
context, so scheduled jobs and commands write them alike.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.texts import usage
from handlers.language.textnorm import normalize, parse_ref
from storage.db import load
from storage.models import Team
from storage.models.activities import Activity, Project

WEEKDAYS = "一二三四五六日"


def aref(activity_id: int) -> str:
    """How an activity number is written in replies."""
    return f"活动 #{activity_id}"


def when_text(tz: tzinfo, starts_at: datetime, ends_at: datetime) -> str:
    """"11月28日（周六）09:00–11:00", in the region's time zone."""
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    day = f"{start.month}月{start.day}日（周{WEEKDAYS[start.weekday()]}）{start:%H:%M}"
    if end.date() == start.date():
        return f"{day}–{end:%H:%M}"
    return f"{day}–{end.month}月{end.day}日 {end:%H:%M}"


def clock_text(tz: tzinfo, at: datetime | None) -> str:
    """"09:02" in the region's time zone."""
    return "—" if at is None else f"{at.astimezone(tz):%H:%M}"


def capacity_text(capacity: int | None, signed: int | None = None) -> str:
    """"20 人（已报 3）" or "不限"."""
    if capacity is None:
        return "不限" + (f"（已报 {signed} 人）" if signed is not None else "")
    return f"{capacity} 人" + (f"（已报 {signed}）" if signed is not None else "")


def signup_button(activity_id: int) -> list[Button]:
    """The one-tap sign-up button sent with an activity."""
    return [Button("报名", f"报名 #{activity_id}")]


def activity_card(tz: tzinfo, activity: Activity, team: Team | None, project: Project | None,
                  signed: int | None = None, head: str = "📣") -> str:
    """An activity as volunteers read it."""
    lines = [
        f"{head} {aref(activity.id)}【{activity.title}】",
        f"时间：{when_text(tz, activity.starts_at, activity.ends_at)}",
        f"地点：{activity.place or '待定'}",
    ]
    if team is not None:
        lines.append(f"队伍：{team.name}")
    if project is not None:
        lines.append(f"项目：{project.name}")
    lines.append(f"名额：{capacity_text(activity.capacity, signed)}")
    return "\n".join(lines)


def code_text(ctx: Context, activity: Activity) -> str:
    """The check-in code for its captain — never in a group chat, where it would let anyone check in from home."""
    if ctx.in_group:
        return "签到码：请私聊我查看"
    return f"签到码：{activity.checkin_code}"


def run_on(ctx: Context, command: str) -> bool:
    """Whether the message only starts with the command's word ("活动中心的灯坏了", "广播喇叭没声了").

    A villager's request may begin with the same characters as a command; written with no
    space after it and from someone who cannot use the command, it is a request, not a command.
    """
    text = normalize(ctx.message.text)
    return text.startswith(command) and len(text) > len(command) and "\u4e00" <= text[len(command)] <= "\u9fff"


async def load_activity(ctx: Context, args: str, command: str, example: str) -> Activity | None:
    """The activity the first word of `args` names; replies with how to write it when absent."""
    tokens = args.split()
    activity_id = parse_ref(tokens[0]) if tokens else None
    if activity_id is None:
        ctx.reply(usage(f"{command} #活动号", example))
        return None
    activity: Activity | None = await load(ctx.session, Activity, activity_id)
    if activity is None:
        ctx.reply(f"没有找到{aref(activity_id)}，请核对活动号（发送「活动」查看近期活动）。")
    return activity
