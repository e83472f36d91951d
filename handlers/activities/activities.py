"""活动 · 报名 · 取消报名: captains publish activities; volunteers sign up, or join the waitlist.

A captain's sentence becomes a draft that they confirm; the activity is then announced to
the team's bound groups and opted-in members with a 「报名」 button. Places are taken
atomically; beyond the capacity volunteers are waitlisted in order, and the first of them is
promoted — and told — when someone cancels.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from handlers.activities.texts import (
    aref,
    as_request,
    capacity_text,
    code_text,
    load_activity,
    run_on,
    when_text,
)
from handlers.core.context import Context
from handlers.core.leadership import (
    ask_which_team,
    chosen_team,
    is_leader_anywhere,
    led_teams,
    may_lead,
    teams_to_act_for,
)
from handlers.core.messages import Button
from handlers.core.permissions import member_team_ids
from handlers.core.router import Router
from handlers.core.texts import CANCEL_WORDS, CONFIRM_WORDS
from handlers.language.activity_parser import ParsedActivity, parse_activity
from handlers.language.textnorm import parse_ref
from storage.activities.activities import (
    CancelResult,
    SignupResult,
    cancel_signup,
    create_activity,
    place_counts,
    sign_up,
    signup_of,
    upcoming_for_teams,
    waitlist_position,
)
from storage.activities.attendance import parse_location
from storage.activities.projects import find_project_for_unit
from storage.models import OrgUnit, Person, Team
from storage.models.activities import Activity, Project

router = Router("activities")

DRAFT_TTL = timedelta(hours=2)
CONFIRM_BUTTONS = [Button("确认", "确认"), Button("取消", "取消")]
EXAMPLE = "活动 周六上午9点 村文化广场 包饺子 限20人"
# "活动 #3", "活动 3号": show that activity rather than parse a new one.
_BARE_REF = re.compile(r"第?\s*#?\s*[0-9零一二两三四五六七八九十百]+\s*号?")


def signup_button(activity_id: int) -> list[Button]:
    """The one-tap sign-up button sent with an activity."""
    return [Button("报名", f"报名 #{activity_id}")]


def activity_card(ctx: Context, activity: Activity, team: Team | None, project: Project | None,
                  signed: int | None = None, head: str = "📣") -> str:
    """An activity as volunteers read it."""
    lines = [
        f"{head} {aref(activity.id)}【{activity.title}】",
        f"时间：{when_text(ctx, activity.starts_at, activity.ends_at)}",
        f"地点：{activity.place or '待定'}",
    ]
    if team is not None:
        lines.append(f"队伍：{team.name}")
    if project is not None:
        lines.append(f"项目：{project.name}")
    lines.append(f"名额：{capacity_text(activity.capacity, signed)}")
    return "\n".join(lines)


async def _project(ctx: Context, activity: Activity) -> Project | None:
    return await ctx.session.get(Project, activity.project_id) if activity.project_id else None


def _problem(parsed: ParsedActivity) -> str | None:
    """What is missing or wrong in a parsed activity, as a reply; None when it is complete."""
    if parsed.when_past:
        return "这个活动时间已经过了，请写一个将来的时间，例如：" + EXAMPLE
    if parsed.starts_at is None:
        return "请写上活动时间，例如：" + EXAMPLE
    if parsed.when_vague:
        return "请写明几点开始，例如：周六上午9点、12月5日14:30。"
    if parsed.title is None:
        return "请写上活动内容，例如：" + EXAMPLE
    if parsed.problems:
        return "；".join(parsed.problems) + "。请改一下再发。"
    return None


def _draft(parsed: ParsedActivity) -> dict[str, Any]:
    assert parsed.starts_at is not None and parsed.ends_at is not None
    return {
        "starts_at": parsed.starts_at.isoformat(),
        "ends_at": parsed.ends_at.isoformat(),
        "title": parsed.title,
        "place": parsed.place,
        "capacity": parsed.capacity,
        "project": parsed.project,
        "location": list(parsed.location) if parsed.location else None,
        "radius_m": parsed.radius_m,
    }


def _draft_text(ctx: Context, draft: dict[str, Any], team: Team) -> str:
    start, end = datetime.fromisoformat(draft["starts_at"]), datetime.fromisoformat(draft["ends_at"])
    lines = [
        "请确认活动：",
        f"内容：{draft['title']}",
        f"时间：{when_text(ctx, start, end)}",
        f"地点：{draft.get('place') or '待定'}",
        f"队伍：{team.name}",
    ]
    if draft.get("project"):
        lines.append(f"项目：{draft['project']}")
    lines.append(f"名额：{capacity_text(draft.get('capacity'))}")
    if draft.get("location"):
        lines.append(f"位置签到：已设定（{draft.get('radius_m') or 500} 米内）")
    lines.append("没问题请点「确认」或回复 1；不对请点「取消」或回复 2，再重新发送。")
    return "\n".join(lines)


@router.command("活动", "/activity")
async def activity_command(ctx: Context, args: str) -> None:
    """Publish an activity (captains), show one (活动 #3), or list upcoming ones (活动)."""
    if not args:
        await _list_upcoming(ctx)
    elif _BARE_REF.fullmatch(args):
        await _show(ctx, parse_ref(args))
    else:
        await _start_draft(ctx, args)


async def _start_draft(ctx: Context, args: str) -> None:
    if not await is_leader_anywhere(ctx):
        if run_on(ctx, "活动"):
            await as_request(ctx)
            return
        ctx.refuse("只有队长或管理员可以发布活动。想参加活动，请发：报名 #活动号", "activity_create")
        return
    parsed = parse_activity(args, ctx.now.astimezone(ctx.tz))
    problem = _problem(parsed)
    if problem is not None:
        ctx.reply(problem)
        return
    teams = await teams_to_act_for(ctx, parsed.team, "activity_create")
    if teams is None:
        return
    if not teams:
        ctx.reply("您管辖的单位没有直属队伍。请写明是哪个队伍的活动：" + EXAMPLE + " 队伍:队伍名")
        return
    draft = _draft(parsed)
    if len(teams) > 1:
        await ask_which_team(ctx, teams, "activity_team", {"draft": draft}, "这个活动是哪个队伍的？")
        return
    await _confirm_draft(ctx, teams[0], draft)


async def _confirm_draft(ctx: Context, team: Team, draft: dict[str, Any]) -> None:
    """Resolve the project for the team's unit and ask the captain to confirm the draft."""
    unit = await ctx.session.get(OrgUnit, team.org_unit_id)
    if draft.get("project") and not draft.get("project_id") and unit is not None:
        project = await find_project_for_unit(session=ctx.session, unit=unit, name=draft["project"])
        if project is None:
            await ctx.state.clear(ctx.state_key)
            ctx.reply(f"没有找到「{draft['project']}」项目（{unit.name}及上级单位的项目里没有）。"
                      "发送「项目」查看可用的项目，或去掉「项目:…」再发。")
            return
        draft["project_id"], draft["project"] = project.id, project.name
    await ctx.state.set(ctx.state_key, {"awaiting": "activity_confirm", "draft": draft, "team_id": team.id}, DRAFT_TTL)
    ctx.reply(_draft_text(ctx, draft, team), CONFIRM_BUTTONS)


@router.on_state("activity_team")
async def pick_team(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """The captain of several teams picks the activity's team."""
    team = await chosen_team(ctx, text, state)
    if team is None:
        return False
    if not await may_lead(ctx, team):
        await ctx.state.clear(ctx.state_key)
        ctx.refuse(f"您不能为「{team.name}」发布活动。", "activity_create", "team", team.id)
        return True
    await _confirm_draft(ctx, team, state["draft"])
    return True


@router.on_state("activity_confirm")
async def confirm(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """Publish on 确认/1, drop on 取消/2; a shared location sets where location check-in works."""
    draft = state["draft"]
    team = await ctx.session.get(Team, state["team_id"])
    word = text.strip().lower()
    locations = [m for m in ctx.message.media if m.kind == "location"]
    if not word and locations and team is not None:
        point = parse_location(locations[0].ref)
        if point is None:
            ctx.reply("没有读懂这个位置，请重新发送。")
            return True
        draft["location"] = list(point)
        await ctx.state.set(ctx.state_key, state, DRAFT_TTL)
        ctx.reply("已记下活动位置，队员可以在现场发送位置签到。\n" + _draft_text(ctx, draft, team), CONFIRM_BUTTONS)
        return True
    if word in CANCEL_WORDS:
        await ctx.state.clear(ctx.state_key)
        ctx.reply("好的，活动没有发布。")
        return True
    if word not in CONFIRM_WORDS:
        return False
    await ctx.state.clear(ctx.state_key)
    if team is None or not await may_lead(ctx, team):
        ctx.refuse("只有本队队长或管理员可以发布活动。", "activity_create", "team", state.get("team_id"))
        return True
    starts_at, ends_at = datetime.fromisoformat(draft["starts_at"]), datetime.fromisoformat(draft["ends_at"])
    if starts_at <= ctx.now:
        ctx.reply("这个活动时间已经过了，没有发布。请写一个将来的时间重新发送。")
        return True
    location = draft.get("location")
    activity = await create_activity(
        session=ctx.session, team_id=team.id, org_unit_id=team.org_unit_id, title=draft["title"],
        starts_at=starts_at, ends_at=ends_at, now=ctx.now, created_by_id=ctx.person.id,
        place=draft.get("place"), capacity=draft.get("capacity"), project_id=draft.get("project_id"),
        location=(location[0], location[1]) if location else None, checkin_radius_m=draft.get("radius_m"),
    )
    ctx.audit("activity_create", "activity", activity.id, team_id=team.id, capacity=activity.capacity)
    answer = ctx.reply(f"{aref(activity.id)} 已发布。")
    project = await _project(ctx, activity)
    reached = await ctx.notifier.team(team, activity_card(ctx, activity, team, project) + f"\n点「报名」或回复：报名 #{activity.id}",
                                      signup_button(activity.id), ref=f"activity:{activity.id}",
                                      exclude_person_ids={ctx.person.id})
    code = (f"{code_text(ctx, activity)}（活动当天在现场告诉大家，队员发「签到 #{activity.id} {activity.checkin_code}」签到）"
            if not ctx.in_group else code_text(ctx, activity))
    answer.text = (
        f"{aref(activity.id)}【{activity.title}】已发布到「{team.name}」（送达 {reached} 处）。\n{code}\n"
        f"查看报名：活动 #{activity.id}　活动后核定时长：核时 #{activity.id}"
    )
    return True


async def _show(ctx: Context, activity_id: int | None) -> None:
    activity = await ctx.session.get(Activity, activity_id) if activity_id else None
    if activity is None:
        ctx.reply(f"没有找到{aref(activity_id or 0)}，请核对活动号（发送「活动」查看近期活动）。")
        return
    team = await ctx.session.get(Team, activity.team_id)
    signed, waitlisted = await place_counts(session=ctx.session, activity_id=activity.id)
    lines = [activity_card(ctx, activity, team, await _project(ctx, activity), signed, head="📋")]
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
    if team is not None and await may_lead(ctx, team):
        lines.append(f"{code_text(ctx, activity)}　名单与核时：核时 #{activity.id}")
    ctx.reply("\n".join(lines), buttons)


async def _list_upcoming(ctx: Context) -> None:
    team_ids = set(await member_team_ids(ctx)) | {t.id for t in await led_teams(ctx)}
    upcoming = await upcoming_for_teams(session=ctx.session, team_ids=sorted(team_ids), now=ctx.now)
    if not upcoming:
        tail = f"\n发布活动：{EXAMPLE}" if await is_leader_anywhere(ctx) else ""
        ctx.reply("您的队伍近期没有活动。" + tail)
        return
    lines = ["近期活动："]
    for activity in upcoming:
        signed, _ = await place_counts(session=ctx.session, activity_id=activity.id)
        full = activity.capacity is not None and signed >= activity.capacity
        lines.append(f"{aref(activity.id)} {when_text(ctx, activity.starts_at, activity.ends_at)}【{activity.title}】"
                     f"{capacity_text(activity.capacity, signed)}{'（已满，可候补）' if full else ''}")
    lines.append("报名：报名 #活动号　详情：活动 #活动号")
    ctx.reply("\n".join(lines))


async def _may_sign_up(ctx: Context) -> bool:
    return ctx.person.is_volunteer or bool(await member_team_ids(ctx)) or await is_leader_anywhere(ctx)


@router.command("报名", "/signup")
async def signup(ctx: Context, args: str) -> None:
    """Sign up for an activity, or join its waitlist when it is full."""
    activity = await load_activity(ctx, args, "报名", "报名 #3")
    if activity is None:
        return
    if not await _may_sign_up(ctx):
        ctx.refuse("报名活动要先加入志愿服务队：发送「加入 邀请码」（邀请码请向队长要）。", "signup", "activity", activity.id)
        return
    outcome = await sign_up(session=ctx.session, activity_id=activity.id, volunteer_id=ctx.person.id, now=ctx.now)
    a = aref(activity.id)
    cancel = [Button("取消报名", f"取消报名 #{activity.id}")]
    if outcome.result is SignupResult.closed:
        ctx.reply(f"{a} 已经开始或结束了，不能再报名。")
        return
    if outcome.result is SignupResult.already:
        if outcome.signed_before:
            ctx.reply(f"您已经报名了{a}，不用再报。")
        else:
            ctx.reply(f"您已经在{a} 的候补名单上，排第 {outcome.position} 位。")
        return
    ctx.audit("signup", "activity", activity.id, result=outcome.result.value, position=outcome.position)
    if outcome.result is SignupResult.signed:
        ctx.reply(f"报名成功！{a}【{activity.title}】\n时间：{when_text(ctx, activity.starts_at, activity.ends_at)}\n"
                  f"地点：{activity.place or '待定'}\n到场后请发：签到 #{activity.id} 签到码（签到码由队长在现场公布）。"
                  f"\n去不了请发：取消报名 #{activity.id}", cancel)
        return
    ctx.reply(f"{a}【{activity.title}】的 {activity.capacity} 个名额已经报满，已把您排在候补第 {outcome.position} 位。"
              f"有人取消时按先后顺序递补，递补上了我会马上告诉您。\n不想候补了请发：取消报名 #{activity.id}",
              [Button("取消候补", f"取消报名 #{activity.id}")])


@router.command("取消报名", "/cancel_signup")
async def cancel(ctx: Context, args: str) -> None:
    """Give up my place (or my waitlist place); the first waitlisted volunteer takes it."""
    activity = await load_activity(ctx, args, "取消报名", "取消报名 #3")
    if activity is None:
        return
    outcome = await cancel_signup(session=ctx.session, activity_id=activity.id, volunteer_id=ctx.person.id, now=ctx.now)
    a = aref(activity.id)
    if outcome.result is CancelResult.closed:
        ctx.reply(f"{a} 已经开始或结束了，不能再取消报名。去不了的话请直接告诉队长。")
        return
    if outcome.result is CancelResult.not_signed:
        ctx.reply(f"您没有报名{a}。")
        return
    ctx.audit("signup_cancel", "activity", activity.id, result=outcome.result.value,
              promoted=outcome.promoted_volunteer_id)
    if outcome.result is CancelResult.left_waitlist:
        ctx.reply(f"已把您从{a} 的候补名单中移除。")
        return
    promoted = await ctx.session.get(Person, outcome.promoted_volunteer_id) if outcome.promoted_volunteer_id else None
    ctx.reply(f"已取消您在{a}【{activity.title}】的报名。" + ("名额已由候补的队友递补。" if promoted else ""))
    if promoted is not None:
        ctx.audit("signup_promote", "activity", activity.id, volunteer_id=promoted.id)
        await ctx.notify(promoted,
                         f"好消息！有人让出了名额，您已从候补转为{a}【{activity.title}】的正式报名。\n"
                         f"时间：{when_text(ctx, activity.starts_at, activity.ends_at)}\n地点：{activity.place or '待定'}\n"
                         f"去不了请发：取消报名 #{activity.id}",
                         [Button("取消报名", f"取消报名 #{activity.id}")], ref=f"activity:{activity.id}")
