"""签到 · 签退 · 核时 · 撤销缺席: attendance at an activity and the hours it earns.

A volunteer checks in with the short code the captain shows on site (on Telegram, a shared
location near the activity also works) and checks out when leaving; hours are the time
between, capped at the activity's length. The captain verifies them — all at once or
person by person, correcting where needed — and only verified hours reach the ledger; hours
given again for someone already verified correct them (the ledger gets the difference).
Nobody checked in by start + 30 min is a no-show (`mark_no_shows_due`, run by the
scheduler); the captain can undo that. The changes themselves are the domain actions in
`handlers.activities.actions.attendance`; this module parses the commands and answers.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from handlers.activities.actions.attendance import (
    BatchVerdict,
    HoursCorrected,
    HoursVerdict,
    Verdict,
    check_in,
    check_out,
    correct_hours,
    mark_no_shows,
    points_change_text,
    undo_no_show,
    verify_all_hours,
    verify_hours,
)
from handlers.activities.texts import (
    aref,
    clock_text,
    code_text,
    load_activity,
    when_text,
)
from handlers.core.act import Act, Refused
from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.rights import may_lead
from handlers.core.router import Router
from handlers.core.texts import hours_text, usage
from handlers.language.textnorm import parse_hours
from storage.activities.activities import roster
from storage.activities.attendance import CheckOutcome, CheckResult, length_hours, parse_location
from storage.db import Session, load
from storage.models import Person, Team
from storage.models.activities import Activity, ActivitySignup

router = Router("attendance")

CODE_TTL = timedelta(minutes=30)
_CODE = re.compile(r"[0-9A-Za-z]{3,8}")
ALL_WORDS = {"全部", "所有", "全体", "all"}
# What a captain adds to 核时 to credit hours past the volunteer's daily cap, knowingly.
PAST_CAP_WORDS = {"超时确认", "确认超时"}


def _minutes_left(ctx: Context, outcome: CheckOutcome) -> int:
    """Whole minutes until a locked-out person may send a code again (at least 1)."""
    if outcome.locked_until is None:
        return 1
    return max(1, math.ceil((outcome.locked_until - ctx.now).total_seconds() / 60))


def _wrong_code_text(ctx: Context, outcome: CheckOutcome) -> str:
    if outcome.locked_until is not None:
        return f"签到码不对。错了太多次，请 {_minutes_left(ctx, outcome)} 分钟后再试，或请队长在现场帮您核对。"
    left = f"（还可以再试 {outcome.left} 次）" if outcome.left is not None else ""
    return f"签到码不对，请向队长核对后再发{left}。"


def _check_in_problem(ctx: Context, activity: Activity, outcome: CheckOutcome) -> str:
    a, result, distance = aref(activity.id), outcome.result, outcome.distance_m
    return {
        CheckResult.already: f"您已经签到过{a} 了。",
        CheckResult.not_signed: f"您没有报名{a}，不能签到。可以先发：报名 #{activity.id}",
        CheckResult.waitlisted: f"您还在{a} 的候补名单上，没有递补上，不能签到。请和队长联系。",
        CheckResult.too_early: f"{a} {when_text(ctx.tz, activity.starts_at, activity.ends_at)}，开始前一小时才能签到。",
        CheckResult.ended: f"{a} 已经结束，不能再签到。如果您参加了，请找队长为您核定时长。",
        CheckResult.closed: f"{a} 已取消。",
        CheckResult.need_code: f"请发签到码：签到 #{activity.id} 签到码",
        CheckResult.wrong_code: _wrong_code_text(ctx, outcome),
        CheckResult.locked: f"签到码错了太多次，请 {_minutes_left(ctx, outcome)} 分钟后再试，或请队长在现场帮您核对。",
        CheckResult.no_location: f"{a} 没有设定位置，请用签到码签到：签到 #{activity.id} 签到码",
        CheckResult.too_far: f"您离活动地点约 {int(distance or 0)} 米，太远了。请到现场再签到，或用签到码签到。",
    }.get(result, "签到没有成功，请稍后再试。")


async def _do_check_in(ctx: Context, activity: Activity, code: str | None,
                       location: tuple[float, float] | None) -> None:
    outcome = await check_in(ctx.act, activity=activity, code=code, location=location)
    if outcome.result is not CheckResult.ok:
        ctx.reply(_check_in_problem(ctx, activity, outcome))
        return
    ctx.reply(f"签到成功！{aref(activity.id)}【{activity.title}】，签到时间 {clock_text(ctx.tz, ctx.now)}。"
              f"\n离开时请发：签退 #{activity.id}", [Button("签退", f"签退 #{activity.id}")])


def _location_of(ctx: Context) -> tuple[float, float] | None:
    for media in ctx.message.media:
        if media.kind == "location":
            return parse_location(media.ref)
    return None


@router.command("签到", "/checkin")
async def checkin(ctx: Context, args: str) -> None:
    """Check in at an activity with its code (签到 #3 4821), or a shared location on Telegram."""
    activity = await load_activity(ctx, args, "签到 #活动号 签到码", "签到 #3 4821")
    if activity is None:
        return
    parts = args.split()
    code = parts[1] if len(parts) > 1 else None
    location = _location_of(ctx)
    if code is None and location is None:
        await ctx.state.set(ctx.state_key, {"awaiting": "checkin_code", "activity_id": activity.id}, CODE_TTL)
        ctx.reply(f"请发{aref(activity.id)} 的签到码（队长在现场公布）。在 Telegram 上也可以直接发送您的位置签到。")
        return
    await _do_check_in(ctx, activity, code, location)


@router.on_state("checkin_code")
async def checkin_code(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """The code (or location) after a bare 签到 #3."""
    location = _location_of(ctx)
    word = text.strip()
    if location is None and not _CODE.fullmatch(word):
        return False
    await ctx.state.clear(ctx.state_key)
    activity: Activity | None = await load(ctx.session, Activity, state["activity_id"])
    if activity is None:
        return False
    await _do_check_in(ctx, activity, None if location else word, location)
    return True


@router.command("签退", "/checkout")
async def checkout(ctx: Context, args: str) -> None:
    """Check out: the hours since check-in (capped at the activity's length) await the captain."""
    activity = await load_activity(ctx, args, "签退", "签退 #3")
    if activity is None:
        return
    outcome = await check_out(ctx.act, activity=activity)
    a = aref(activity.id)
    if outcome.result is CheckResult.ok:
        ctx.reply(f"签退成功，辛苦了！{a} 本次 {hours_text(outcome.hours)} 小时（从签到算起，最多按活动时长 "
                  f"{hours_text(length_hours(activity))} 小时计）。队长核定后计入您的志愿时长。")
        return
    ctx.reply({
        CheckResult.already: f"您已经签退过{a} 了（{hours_text(outcome.hours)} 小时）。",
        CheckResult.not_checked_in: f"您还没有签到{a}。请先发：签到 #{activity.id} 签到码",
        CheckResult.waitlisted: f"您在{a} 的候补名单上，没有签到记录。",
    }.get(outcome.result, f"您没有报名{a}。"))


# ---------------------------------------------------------------- the captain's side


async def _led_activity(ctx: Context, args: str, command: str, example: str) -> Activity | None:
    """The activity named, when the person may see its roster; refuses (audited) otherwise.

    Only for what reads the roster (the sheet, a usage hint): what changes it is checked again
    by the action itself.
    """
    activity = await load_activity(ctx, args, command, example)
    if activity is None:
        return None
    team: Team | None = await load(ctx.session, Team, activity.team_id)
    if team is None or not await may_lead(ctx.act, team):
        ctx.refuse(f"只有「{team.name if team else '本队'}」的队长或管理员可以{command.split()[0]}。",
                   "verify_hours" if command.startswith("核时") else "undo_no_show", "activity", activity.id)
        return None
    return activity


def _line(ctx: Context, signup: ActivitySignup, person: Person) -> str:
    if signup.verified:
        state = f"已核定 {hours_text(signup.hours)} 小时"
    elif signup.no_show:
        state = "缺席"
    elif signup.checkin_at is None:
        state = "未签到"
    elif signup.checkout_at is None:
        state = f"签到 {clock_text(ctx.tz, signup.checkin_at)}，未签退"
    else:
        state = (f"签到 {clock_text(ctx.tz, signup.checkin_at)} 签退 {clock_text(ctx.tz, signup.checkout_at)}"
                 f" → {hours_text(signup.hours)} 小时")
    return f"{person.name}：{state}"


async def _show_sheet(ctx: Context, activity: Activity) -> None:
    rows = await roster(session=ctx.session, activity_id=activity.id)
    signed = [(s, p) for s, p in rows if s.status == "signed"]
    waiting = [p.name for s, p in rows if s.status == "waitlisted"]
    lines = [f"{aref(activity.id)}【{activity.title}】{when_text(ctx.tz, activity.starts_at, activity.ends_at)}",
             f"{code_text(ctx, activity)}；时长上限 {hours_text(length_hours(activity))} 小时"]
    lines += [f"{i}. {_line(ctx, s, p)}" for i, (s, p) in enumerate(signed, 1)] or ["还没有人报名。"]
    if waiting:
        lines.append("候补：" + "、".join(waiting))
    lines.append(f"核定全部已签退的：核时 #{activity.id} 全部\n逐人核定或更正：核时 #{activity.id} 姓名 2小时\n"
                 f"撤销缺席：撤销缺席 #{activity.id} 姓名")
    ctx.reply("\n".join(lines), [Button("全部核定", f"核时 #{activity.id} 全部")] if signed else None)


@router.command("核时", "/verify")
async def verify(ctx: Context, args: str) -> None:
    """The captain lists (核时 #3), verifies all (核时 #3 全部), or sets or corrects one's hours (核时 #3 张三 2小时)."""
    parts = args.split()
    if len(parts) <= 1:
        activity = await _led_activity(ctx, args, "核时 #活动号", "核时 #3 全部")
        if activity is not None:
            await _show_sheet(ctx, activity)
        return
    activity = await load_activity(ctx, args, "核时 #活动号", "核时 #3 全部")
    if activity is None:
        return
    if parts[1].lower() in ALL_WORDS:
        batch = await verify_all_hours(ctx.act, activity=activity)
        ctx.reply(batch.reason if isinstance(batch, Refused) else _batch_text(activity, batch))
        return
    past_cap = parts[-1] in PAST_CAP_WORDS  # the leader's explicit word for hours past the daily cap
    if past_cap:
        parts = parts[:-1]
    name, hours_word = parts[1], " ".join(parts[2:])
    hours = None
    if hours_word:
        parsed = parse_hours(hours_word)
        if parsed is None:
            ctx.reply(usage(f"核时 #{activity.id} 姓名 小时数", f"核时 #{activity.id} {name} 2小时"))
            return
        hours = Decimal(str(parsed))
    verdict = await verify_hours(ctx.act, activity=activity, name=name, hours=hours, past_cap=past_cap)
    if isinstance(verdict, HoursVerdict) and verdict.verdict is Verdict.already and hours is not None:
        # Verified before: the hours given correct them (a ledger row for the difference).
        corrected = await correct_hours(ctx.act, activity=activity, name=name, hours=hours, past_cap=past_cap)
        if isinstance(corrected, HoursCorrected):
            ctx.reply(f"已把 {name} 在{aref(activity.id)} 的时长从 {hours_text(corrected.corrected.before)} 小时更正为 "
                      f"{hours_text(corrected.corrected.after)} 小时{points_change_text(corrected.corrected)}"
                      f"已告诉{name}。")
            return
        verdict = corrected
    ctx.reply(verdict.reason if isinstance(verdict, Refused)
              else _verdict_text(activity, name, verdict, ctx.act.daily_cap))


def _batch_text(activity: Activity, batch: BatchVerdict) -> str:
    a = aref(activity.id)
    done = [f"{name} {hours_text(hours)} 小时" for name, hours in batch.done]
    lines = [f"{a} 已核定：" + "、".join(done) if done else f"{a} 没有可以直接核定的时长。"]
    if batch.waiting:
        lines.append("还没有可核定时长的（未签到、未签退或不足 0.01 小时）：" + "、".join(batch.waiting)
                     + f"。请逐人核定：核时 #{activity.id} 姓名 2小时")
    if batch.over_cap:
        lines.append("加上当天的其他服务会超过每天的时长上限，没有核定：" + "、".join(batch.over_cap)
                     + f"。如果属实，请逐人核定并写明：核时 #{activity.id} 姓名 小时数 超时确认")
    return "\n".join(lines)


def _verdict_text(activity: Activity, name: str, verdict: HoursVerdict, daily_cap: Decimal) -> str:
    a, n = aref(activity.id), activity.id
    return {
        Verdict.verified: f"已核定 {name} 在{a} 的时长：{hours_text(verdict.hours)} 小时。",
        Verdict.not_listed: f"{name} 不在{a} 的报名名单上。发送「核时 #{n}」查看名单。",
        Verdict.already: f"{name} 在{a} 的时长已核定为 {hours_text(verdict.hours)} 小时。要更正请写上小时数："
                         f"核时 #{n} {name} 2小时",
        Verdict.unchanged: f"{name} 在{a} 的时长本来就是 {hours_text(verdict.hours)} 小时，没有改动。",
        Verdict.no_show: f"{name} 被记为缺席。如果他/她来了，请先发：撤销缺席 #{n} {name}",
        Verdict.needs_hours: f"{name} 还没有签到签退的时长，请写上小时数：核时 #{n} {name} 2小时",
        Verdict.over_cap: f"时长不能超过活动时长 {hours_text(verdict.hours)} 小时。",
        Verdict.not_started: f"{a} 还没有开始，开始后才能核定时长。",
        Verdict.failed: f"{name} 的时长没有核定成功（可能刚被核定过），请发「核时 #{n}」查看。",
        Verdict.over_daily_cap: f"{name} 这一天加上其他服务，最多还能记 {hours_text(verdict.hours)} 小时（每天上限 "
                                f"{hours_text(daily_cap)} 小时）。如果属实，请写明：核时 #{n} {name} 小时数 超时确认",
    }[verdict.verdict]


@router.command("撤销缺席", "/undo_noshow")
async def undo(ctx: Context, args: str) -> None:
    """The captain clears a no-show: 撤销缺席 #3 张三."""
    parts = args.split()
    if len(parts) < 2:
        activity = await _led_activity(ctx, args, "撤销缺席 #活动号 姓名", "撤销缺席 #3 张三")
        if activity is not None:
            ctx.reply(usage("撤销缺席 #活动号 姓名", f"撤销缺席 #{activity.id} 张三"))
        return
    activity = await load_activity(ctx, args, "撤销缺席 #活动号 姓名", "撤销缺席 #3 张三")
    if activity is None:
        return
    name = parts[1]
    undone = await undo_no_show(ctx.act, activity=activity, name=name)
    if isinstance(undone, Refused):
        ctx.reply(undone.reason)
    elif not undone:
        ctx.reply(f"{name} 在{aref(activity.id)} 没有缺席记录。")
    else:
        ctx.reply(f"已撤销 {name} 在{aref(activity.id)} 的缺席记录。核定时长：核时 #{activity.id} {name} 2小时")


async def mark_no_shows_due(session: Session, now: datetime, tz: tzinfo = UTC) -> int:
    """Mark everyone not checked in by start + 30 min as a no-show and tell the captains; idempotent.

    Meant for the scheduler's job list (same signature as its other jobs); the work is the
    `mark_no_shows` action, run with no actor. Its message names no time of day, so the zone
    only matters to a caller that has one to pass.
    """
    return await mark_no_shows(Act(session=session, now=now, tz=tz))
