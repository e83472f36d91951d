"""取消活动 · 改期: a captain (or an admin over the team) cancels or moves an activity.

`取消活动 #3 下雨` cancels it with an optional reason; `改期 #3 明天上午9点` moves it, the new time
read as an activity's time is read (a span such as "9点到11点" or a length such as "3小时" sets the
length, otherwise it keeps its own). The changes are the domain actions in
`handlers.activities.actions.changes`; this module reads the commands and answers.
"""

from __future__ import annotations

import re
from datetime import timedelta

from handlers.activities.actions.changes import (
    ActivityCancelled,
    ActivityMoved,
    NotOpen,
    SameTime,
    TimeGone,
    Unchangeable,
    cancel_activity,
    move_activity,
)
from handlers.activities.texts import aref, load_activity, run_on, when_text
from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.router import NOT_MINE, Router
from handlers.core.texts import usage
from handlers.language.activity_parser import DEFAULT_LENGTH, ParsedActivity, parse_activity
from handlers.language.textnorm import parse_ref
from storage.models.activities import Activity

router = Router("activity_changes")

CANCEL_USAGE, CANCEL_EXAMPLE = "取消活动 #活动号 [原因]", "取消活动 #3 下雨"
MOVE_USAGE, MOVE_EXAMPLE = "改期 #活动号 新时间", "改期 #3 明天上午9点"
# "改期 #3 改到明天上午9点": words before the time that are no part of it.
_LEAD = re.compile(r"^(?:改到|改为|改成|推迟到|提前到|挪到|到|为)\s*")
# A second time in the text ("9点到11点", "9:00-11:00"): the captain gave the end too.
_SPAN = re.compile(r"[到至~\-–—]")


def _not_open_text(activity: Activity, why: NotOpen, verb: str) -> str:
    """Why the activity can no longer be cancelled or moved, as the reply."""
    a = aref(activity.id)
    return {
        NotOpen.started: f"{a} 已经开始或结束了，不能再{verb}。",
        NotOpen.cancelled: f"{a} 已经取消了。",
        NotOpen.changed: f"{a} 刚被别人改过，请发「活动 #{activity.id}」看看现在的安排。",
    }[why]


def _reached(told: int, cards: int, card_state: str) -> str:
    """Whom a change reached: the people told and the group cards edited."""
    groups = f"，{cards} 个队伍群里的活动卡片已改为{card_state}" if cards else ""
    return f"已通知 {told} 人{groups}。"


@router.command("取消活动", "/cancel_activity")
async def cancel(ctx: Context, args: str) -> object:
    """Cancel an activity, with an optional reason: 取消活动 #3 下雨."""
    words = args.split(maxsplit=1)
    if (not words or parse_ref(words[0]) is None) and run_on(ctx, "取消活动"):
        return NOT_MINE  # "取消活动室的预约": a request, not the command
    activity = await load_activity(ctx, args, CANCEL_USAGE, CANCEL_EXAMPLE)
    if activity is None:
        return None
    outcome = await cancel_activity(ctx.act, activity=activity, reason=words[1] if len(words) > 1 else None)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, Unchangeable):
        ctx.reply(_not_open_text(activity, outcome.why, "取消"))
    elif isinstance(outcome, ActivityCancelled):
        ctx.reply(f"已取消{aref(activity.id)}【{activity.title}】。"
                  + _reached(outcome.told, outcome.cards, "「已取消」"))
    return None


def _length(parsed: ParsedActivity, when: str, activity: Activity) -> timedelta:
    """The moved activity's length: as the captain gave it, else the length it had."""
    if parsed.length_given or parsed.length != DEFAULT_LENGTH or _SPAN.search(when):
        return parsed.length
    return activity.ends_at - activity.starts_at


def _time_problem(parsed: ParsedActivity) -> str | None:
    """What is wrong with the new time, as a reply; None when it can be used."""
    if parsed.starts_at is None:
        return "没看懂新的时间。" + usage(MOVE_USAGE, MOVE_EXAMPLE)
    if parsed.when_vague:
        return "请写明几点开始，例如：" + MOVE_EXAMPLE
    if parsed.when_past:
        return "新的时间已经过了，请写一个将来的时间，例如：" + MOVE_EXAMPLE
    if parsed.problems:
        return "；".join(parsed.problems) + "。请改一下再发。"
    return None


@router.command("改期", "/reschedule")
async def move(ctx: Context, args: str) -> object:
    """Move an activity to a new time: 改期 #3 明天上午9点 (places and waitlist stay)."""
    words = args.split(maxsplit=1)
    if (not words or parse_ref(words[0]) is None) and run_on(ctx, "改期"):
        return NOT_MINE
    activity = await load_activity(ctx, args, MOVE_USAGE, MOVE_EXAMPLE)
    if activity is None:
        return None
    when = _LEAD.sub("", words[1].strip()) if len(words) > 1 else ""
    if not when:
        ctx.reply(usage(MOVE_USAGE, f"改期 #{activity.id} 明天上午9点"))
        return None
    parsed = parse_activity(when, ctx.now.astimezone(ctx.tz))
    problem = _time_problem(parsed)
    if problem is not None:
        ctx.reply(problem)
        return None
    assert parsed.starts_at is not None
    outcome = await move_activity(ctx.act, activity=activity, starts_at=parsed.starts_at,
                                  ends_at=parsed.starts_at + _length(parsed, when, activity))
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, Unchangeable):
        ctx.reply(_not_open_text(activity, outcome.why, "改期"))
    elif isinstance(outcome, TimeGone):
        ctx.reply("新的时间已经过了，请写一个将来的时间，例如：" + MOVE_EXAMPLE)
    elif isinstance(outcome, SameTime):
        ctx.reply(f"{aref(activity.id)} 本来就是这个时间，没有改动。")
    elif isinstance(outcome, ActivityMoved):
        new, old = when_text(ctx.tz, activity.starts_at, activity.ends_at), when_text(ctx.tz, *outcome.was)
        ctx.reply(f"{aref(activity.id)}【{activity.title}】已改到 {new}（原定 {old}）。"
                  + _reached(outcome.told, outcome.cards, "新时间") + "活动提醒按新时间发送。")
    return None
