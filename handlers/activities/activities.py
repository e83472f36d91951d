"""活动 · 报名 · 取消报名: captains publish activities; volunteers sign up, or join the waitlist.

A captain's sentence becomes a draft that they confirm; the activity is then announced to
the team's bound groups and opted-in members with a 「报名」 button. Places are taken
atomically; beyond the capacity volunteers are waitlisted in order, and the first of them is
promoted — and told — when someone cancels. Those changes are the domain actions in
`handlers.activities.actions.signups`; this module reads the commands, keeps the draft in the
conversation state, and answers.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from handlers.activities.actions.signups import (
    AlreadyStarted,
    Published,
    cancel_signup,
    create_activity,
    project_of,
    sign_up,
)
from handlers.activities.drafts import (
    EXAMPLE,
    draft_of,
    draft_problem,
    draft_text,
    plan_of,
)
from handlers.activities.texts import (
    activity_card,
    aref,
    capacity_text,
    code_text,
    load_activity,
    run_on,
    signup_button,
    when_text,
)
from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.leadership import chosen_team, refuse_non_leader, the_team_to_act_for
from handlers.core.messages import Button
from handlers.core.rights import leads_anywhere, led_teams, may_lead, member_team_ids
from handlers.core.router import NOT_MINE, Router
from handlers.core.texts import CANCEL_WORDS, CONFIRM_WORDS
from handlers.language.activity_parser import parse_activity
from handlers.language.textnorm import parse_ref
from storage.activities.activities import (
    CancelResult,
    SignupResult,
    place_counts,
    signup_of,
    upcoming_for_teams,
    waitlist_position,
)
from storage.activities.attendance import parse_location
from storage.activities.projects import find_project_for_unit
from storage.db import load
from storage.models import Team
from storage.models.activities import Activity
from storage.people.network import get_unit

router = Router("activities")

DRAFT_TTL = timedelta(hours=2)
CONFIRM_BUTTONS = [Button("确认", "确认"), Button("取消", "取消")]
# "活动 #3", "活动 3号": show that activity rather than parse a new one.
_BARE_REF = re.compile(r"第?\s*#?\s*[0-9零一二两三四五六七八九十百]+\s*号?")


@router.command("活动", "/activity")
async def activity_command(ctx: Context, args: str) -> object:
    """Publish an activity (captains), show one (活动 #3), or list upcoming ones (活动)."""
    if not args:
        await _list_upcoming(ctx)
    elif _BARE_REF.fullmatch(args):
        await _show(ctx, parse_ref(args))
    else:
        return await _start_draft(ctx, args)
    return None


async def _start_draft(ctx: Context, args: str) -> object:
    if not await leads_anywhere(ctx.act):
        if run_on(ctx, "活动"):
            return NOT_MINE  # "活动室的暖气不热了": a villager's request, for the intake
        await refuse_non_leader(ctx, "只有队长或管理员可以发布活动。想参加活动，请发：报名 #活动号", "activity_create")
        return None
    parsed = parse_activity(args, ctx.now.astimezone(ctx.tz))
    problem = draft_problem(parsed)
    if problem is not None:
        ctx.reply(problem)
        return None
    draft = draft_of(parsed)
    team = await the_team_to_act_for(ctx, parsed.team, "activity_create", awaiting="activity_team",
                                     payload={"draft": draft}, prompt="这个活动是哪个队伍的？",
                                     unnamed="您管辖的单位没有直属队伍。请写明是哪个队伍的活动：" + EXAMPLE + " 队伍:队伍名")
    if team is not None:
        await _confirm_draft(ctx, team, draft)
    return None


async def _confirm_draft(ctx: Context, team: Team, draft: dict[str, Any]) -> None:
    """Resolve the project for the team's unit and ask the captain to confirm the draft."""
    unit = await get_unit(ctx.session, team.org_unit_id)
    if draft.get("project") and not draft.get("project_id") and unit is not None:
        project = await find_project_for_unit(session=ctx.session, unit=unit, name=draft["project"])
        if project is None:
            await ctx.state.clear(ctx.state_key)
            ctx.reply(f"没有找到「{draft['project']}」项目（{unit.name}及上级单位的项目里没有）。"
                      "发送「项目」查看可用的项目，或去掉「项目:…」再发。")
            return
        draft["project_id"], draft["project"] = project.id, project.name
    await ctx.state.set(ctx.state_key, {"awaiting": "activity_confirm", "draft": draft, "team_id": team.id}, DRAFT_TTL)
    ctx.reply(draft_text(ctx.tz, draft, team), CONFIRM_BUTTONS)


@router.on_state("activity_team")
async def pick_team(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """The captain of several teams picks the activity's team."""
    team = await chosen_team(ctx, text, state)
    if team is None:
        return False
    if not await may_lead(ctx.act, team):
        await ctx.state.clear(ctx.state_key)
        ctx.refuse(f"您不能为「{team.name}」发布活动。", "activity_create", "team", team.id)
        return True
    await _confirm_draft(ctx, team, state["draft"])
    return True


@router.on_state("activity_confirm")
async def confirm(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """Publish on 确认/1, drop on 取消/2; a shared location sets where location check-in works."""
    draft = state["draft"]
    team: Team | None = await load(ctx.session, Team, state["team_id"])
    word = text.strip().lower()
    locations = [m for m in ctx.message.media if m.kind == "location"]
    if not word and locations and team is not None:
        point = parse_location(locations[0].ref)
        if point is None:
            ctx.reply("没有读懂这个位置，请重新发送。")
            return True
        draft["location"] = list(point)
        await ctx.state.set(ctx.state_key, state, DRAFT_TTL)
        ctx.reply("已记下活动位置，队员可以在现场发送位置签到。\n" + draft_text(ctx.tz, draft, team), CONFIRM_BUTTONS)
        return True
    if word in CANCEL_WORDS:
        await ctx.state.clear(ctx.state_key)
        ctx.reply("好的，活动没有发布。")
        return True
    if word not in CONFIRM_WORDS:
        return False
    await ctx.state.clear(ctx.state_key)
    if team is None:
        ctx.refuse("只有本队队长或管理员可以发布活动。", "activity_create", "team", state.get("team_id"))
        return True
    outcome = await create_activity(ctx.act, team=team, plan=plan_of(draft))
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, AlreadyStarted):
        ctx.reply("这个活动时间已经过了，没有发布。请写一个将来的时间重新发送。")
    else:
        ctx.reply(_published_text(ctx, outcome))
    return True


def _published_text(ctx: Context, published: Published) -> str:
    activity, team = published.activity, published.team
    code = (f"{code_text(ctx, activity)}（活动当天在现场告诉大家，队员发「签到 #{activity.id} {activity.checkin_code}」签到）"
            if not ctx.in_group else code_text(ctx, activity))
    return (f"{aref(activity.id)}【{activity.title}】已发布到「{team.name}」（送达 {published.reached} 处）。\n{code}\n"
            f"查看报名：活动 #{activity.id}　活动后核定时长：核时 #{activity.id}")


async def _show(ctx: Context, activity_id: int | None) -> None:
    activity: Activity | None = await load(ctx.session, Activity, activity_id) if activity_id else None
    if activity is None:
        ctx.reply(f"没有找到{aref(activity_id or 0)}，请核对活动号（发送「活动」查看近期活动）。")
        return
    team: Team | None = await load(ctx.session, Team, activity.team_id)
    signed, waitlisted = await place_counts(session=ctx.session, activity_id=activity.id)
    lines = [activity_card(ctx.tz, activity, team, await project_of(ctx.act, activity), signed, head="📋")]
    if waitlisted:
        lines.append(f"候补：{waitlisted} 人")
    if activity.status == "cancelled":
        lines.append("（已取消）")
    mine = await signup_of(session=ctx.session, activity_id=activity.id, volunteer_id=ctx.person.id)
    buttons: list[Button] = []
    if mine is not None and mine.status == "signed":
        lines.append("您：已报名" + ("，已签到" if mine.checkin_at else ""))
        buttons = [Button("取消报名", f"取消报名 #{activity.id}")]
    elif mine is not None and mine.status == "waitlisted":
        position = await waitlist_position(session=ctx.session, activity_id=activity.id, volunteer_id=ctx.person.id)
        lines.append(f"您：候补第 {position} 位")
        buttons = [Button("取消候补", f"取消报名 #{activity.id}")]
    elif activity.status == "planned" and activity.starts_at > ctx.now:
        buttons = signup_button(activity.id)
    if team is not None and await may_lead(ctx.act, team):
        lines.append(f"{code_text(ctx, activity)}　名单与核时：核时 #{activity.id}")
    ctx.reply("\n".join(lines), buttons)


async def _list_upcoming(ctx: Context) -> None:
    team_ids = set(await member_team_ids(ctx.act)) | {t.id for t in await led_teams(ctx.act)}
    upcoming = await upcoming_for_teams(session=ctx.session, team_ids=sorted(team_ids), now=ctx.now)
    if not upcoming:
        tail = f"\n发布活动：{EXAMPLE}" if await leads_anywhere(ctx.act) else ""
        ctx.reply("您的队伍近期没有活动。" + tail)
        return
    lines = ["近期活动："]
    for activity in upcoming:
        signed, _ = await place_counts(session=ctx.session, activity_id=activity.id)
        full = activity.capacity is not None and signed >= activity.capacity
        lines.append(f"{aref(activity.id)} {when_text(ctx.tz, activity.starts_at, activity.ends_at)}"
                     f"【{activity.title}】{capacity_text(activity.capacity, signed)}{'（已满，可候补）' if full else ''}")
    lines.append("报名：报名 #活动号　详情：活动 #活动号")
    ctx.reply("\n".join(lines))


@router.command("报名", "/signup")
async def signup(ctx: Context, args: str) -> None:
    """Sign up for an activity, or join its waitlist when it is full."""
    activity = await load_activity(ctx, args, "报名", "报名 #3")
    if activity is None:
        return
    outcome = await sign_up(ctx.act, activity=activity)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
        return
    a = aref(activity.id)
    if outcome.result is SignupResult.closed:
        ctx.reply(f"{a} 已经开始或结束了，不能再报名。")
    elif outcome.result is SignupResult.already and outcome.signed_before:
        ctx.reply(f"您已经报名了{a}，不用再报。")
    elif outcome.result is SignupResult.already:
        ctx.reply(f"您已经在{a} 的候补名单上，排第 {outcome.position} 位。")
    elif outcome.result is SignupResult.signed:
        ctx.reply(f"报名成功！{a}【{activity.title}】\n时间：{when_text(ctx.tz, activity.starts_at, activity.ends_at)}\n"
                  f"地点：{activity.place or '待定'}\n到场后请发：签到 #{activity.id} 签到码（签到码由队长在现场公布）。"
                  f"\n去不了请发：取消报名 #{activity.id}", [Button("取消报名", f"取消报名 #{activity.id}")])
    else:
        ctx.reply(f"{a}【{activity.title}】的 {activity.capacity} 个名额已经报满，已把您排在候补第 {outcome.position} 位。"
                  f"有人取消时按先后顺序递补，递补上了我会马上告诉您。\n不想候补了请发：取消报名 #{activity.id}",
                  [Button("取消候补", f"取消报名 #{activity.id}")])


@router.command("取消报名", "/cancel_signup")
async def cancel(ctx: Context, args: str) -> None:
    """Give up my place (or my waitlist place); the first waitlisted volunteer takes it."""
    activity = await load_activity(ctx, args, "取消报名", "取消报名 #3")
    if activity is None:
        return
    outcome = await cancel_signup(ctx.act, activity=activity)
    a = aref(activity.id)
    if outcome.result is CancelResult.closed:
        ctx.reply(f"{a} 已经开始或结束了，不能再取消报名。去不了的话请直接告诉队长。")
    elif outcome.result is CancelResult.not_signed:
        ctx.reply(f"您没有报名{a}。")
    elif outcome.result is CancelResult.left_waitlist:
        ctx.reply(f"已把您从{a} 的候补名单中移除。")
    else:
        ctx.reply(f"已取消您在{a}【{activity.title}】的报名。" + ("名额已由候补的队友递补。" if outcome.promoted else ""))
