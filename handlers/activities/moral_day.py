"""道德活动日: the recurring moral activity day — the admin command that sets it, and its message.

`道德日` shows the rule that applies to me; an admin sets it for their subtree with
`道德日 每月5日 8点` (or `道德日 <地区> 每月第一个周六 9点` for a unit inside it), switches it
off with `道德日 关闭`, and lets a unit follow the one above again with `道德日 跟随上级`.
A rule set at a unit covers everything under it unless a lower unit sets its own (docs/roles.md).
The change is the `set_moral_day` action, which audits it and every refusal. The scheduler
sends the day's message, written by `moral_day_text` here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from handlers.activities.actions.moral_day import (
    MoralDayChange,
    RegionNotFound,
    Switch,
    set_moral_day,
)
from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.places import village_core
from handlers.core.rights import admin_units
from handlers.core.router import Router
from handlers.core.texts import usage
from handlers.language.rule_parser import parse_rule
from storage.models import OrgUnit
from storage.scheduling.recurrence import WEEKDAY_ZH, Recurrence
from storage.scheduling.rules import (
    MORAL_DAY,
    effective_rule,
    recurrence_of,
)

router = Router("moral_day")

OFF_WORDS = {"关闭", "停止", "停用", "取消", "不提醒"}
INHERIT_WORDS = {"跟随上级", "恢复默认", "默认", "继承", "同上级"}
MAX_LISTED = 10
MAX_CHARS = 3500  # Telegram's limit is 4,096; leave room for the channel's own decorations


@dataclass(frozen=True)
class PlannedActivity:
    """An activity as the moral-day message lists it."""

    id: int
    title: str
    starts_at: datetime
    place: str | None
    team_name: str


def day_label(day: date) -> str:
    """12月5日（星期六）."""
    return f"{day.month}月{day.day}日（星期{WEEKDAY_ZH[day.weekday()]}）"


def moral_day_text(region_name: str, day: date, activities: Sequence[PlannedActivity], tz: tzinfo,
                   late: bool = False) -> str:
    """The moral-day message of one region: the day, and that day's planned activities."""
    head = "（补发）" if late else ""
    lines = [f"🌟{head}【道德活动日】{day_label(day)}是{village_core(region_name)}的道德活动日。"]
    if not activities:
        lines.append("当天还没有安排活动。欢迎就近参加志愿服务，或联系队长组织一场。")
        return "\n".join(lines)
    lines.append("当天的志愿服务活动：")
    shown = 0
    for act in activities[:MAX_LISTED]:
        at = act.starts_at.astimezone(tz)
        place = f" @{act.place}" if act.place else ""
        line = f"· {at.hour:02d}:{at.minute:02d} {act.title}{place}（{act.team_name}）报名 #{act.id}"
        if sum(len(x) + 1 for x in lines) + len(line) > MAX_CHARS:
            break
        lines.append(line)
        shown += 1
    if shown < len(activities):
        lines.append(f"……共 {len(activities)} 项活动，更多请问本村文明实践站。")
    lines.append("回复「报名 #活动号」即可报名。")
    return "\n".join(lines)


def rule_text(recurrence: Recurrence) -> str:
    """A rule as shown to people, with the short-month note where it matters."""
    text = recurrence.describe()
    if recurrence.day_of_month is not None and recurrence.day_of_month > 28:
        text += "（当月没有这一天时，在月末最后一天）"
    return text


def next_text(recurrence: Recurrence, now: datetime, tz: tzinfo) -> str:
    """下次：12月5日（星期六）08:00."""
    at = recurrence.next_due(now, tz)
    return f"下次：{day_label(at.date())}{at.hour:02d}:{at.minute:02d}"


async def _describe_for(ctx: Context, unit: OrgUnit) -> str:
    found = await effective_rule(ctx.session, unit, MORAL_DAY)
    if found is None:
        return f"{unit.name}：还没有设置道德活动日。"
    rule, owner = found
    inherited = "" if owner.id == unit.id else f"（沿用{owner.name}的设置）"
    if not rule.enabled:
        return f"{unit.name}：道德活动日提醒已关闭{inherited}。"
    rec = recurrence_of(rule)
    return f"{unit.name}：{rule_text(rec)}{inherited}\n{next_text(rec, ctx.now, ctx.tz)}"


async def show_rule(ctx: Context) -> None:
    """Show the rule for my admin units, or for my home unit."""
    scopes = await admin_units(ctx.act)
    units = scopes
    if not units:
        home = await ctx.home_unit()
        if home is None:
            ctx.reply("您还没有登记所在的村/社区，先发送：注册 村名")
            return
        units = [home]
    parts = ["📅 道德活动日"] + [await _describe_for(ctx, u) for u in units]
    if scopes:
        parts.append("修改：道德日 每月5日 8点 · 每月第一个周六 9点\n关闭：道德日 关闭 · 跟随上级：道德日 跟随上级")
    ctx.reply("\n".join(parts))


def _split(args: str) -> tuple[str, str, Recurrence | None]:
    """(region, action word, rule): "北票 每月5日 8点" → ("北票", "", rule)."""
    words = args.split()
    for i in range(len(words)):
        rest = " ".join(words[i:])
        if rest in OFF_WORDS or rest in INHERIT_WORDS:
            return " ".join(words[:i]), rest, None
        rule = parse_rule(rest)
        if rule is not None:
            return " ".join(words[:i]), "", rule
    return "", "", None


@router.command("道德日", "道德活动日", "/moralday")
async def moral_day(ctx: Context, args: str) -> None:
    """Show the moral activity day, or (admins) set, switch off or un-override it for my subtree."""
    if not args:
        await show_rule(ctx)
        return
    region, word, rule = _split(args)
    if rule is None and not word:
        ctx.reply(usage("道德日 每月5日 8点（或：每月第一个周六 9点）", "道德日 每月5日 8点"))
        return
    change = rule if rule is not None else (Switch.inherit if word in INHERIT_WORDS else Switch.off)
    outcome = await set_moral_day(ctx.act, region=region, change=change)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, RegionNotFound):
        ctx.reply(f"没有找到「{outcome.region}」。")
    else:
        ctx.reply(await _changed_text(ctx, outcome))


async def _changed_text(ctx: Context, done: MoralDayChange) -> str:
    unit, change = done.unit, done.change
    if change is Switch.inherit and not done.changed:
        return f"{unit.name}本来就跟随上级设置。"
    if change is Switch.inherit:
        return f"好的，{unit.name}今后跟随上级的道德活动日。\n" + await _describe_for(ctx, unit)
    if change is Switch.off:
        return f"好的，已关闭{unit.name}及下属单位的道德活动日提醒。"
    return (f"已设置：{unit.name}及下属单位的道德活动日为{rule_text(change)}。\n{next_text(change, ctx.now, ctx.tz)}"
            "，届时先发到各队伍群，再私信开启了通知的志愿者。")
