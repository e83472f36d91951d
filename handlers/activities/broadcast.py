"""广播 · 免打扰 · 开启通知: a captain speaks to the whole team; members choose whether to get DMs.

A broadcast goes to the team's bound groups first (one message reaches everyone there) and
then, as direct messages, to members who have not opted out — all through the outbox, so
the relay's rate limiter paces it. Only the team's captain(s), or admins over the team's
unit, may broadcast.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from handlers.activities.texts import as_request, run_on
from handlers.core.context import Context
from handlers.core.leadership import (
    ask_which_team,
    chosen_team,
    is_leader_anywhere,
    may_lead,
    teams_to_act_for,
)
from handlers.core.permissions import captain_team_ids
from handlers.core.router import Router
from handlers.core.texts import as_typed, usage
from storage.models import Person, Team, TeamGroup, TeamMember

router = Router("broadcast")

# Well under Telegram's 4,096 characters and WeChat's 2,048-byte text limit once the header is added.
MAX_CHARS = 600
_TEAM_TAG = re.compile(r"队伍\s*:\s*(\S+)\s*")


@router.command("广播", "/broadcast")
async def broadcast(ctx: Context, args: str) -> None:
    """Send a message to my team's groups and opted-in members: 广播 <内容>."""
    content = args.strip()
    tag = _TEAM_TAG.match(content)
    if tag:
        content = content[tag.end():].strip()
    if not content:
        ctx.reply(usage("广播 内容", "广播 明天上午9点在村文化广场集合，请大家准时到"))
        return
    if not await is_leader_anywhere(ctx):
        if run_on(ctx, "广播"):
            await as_request(ctx)
            return
        ctx.refuse("只有本队队长可以广播。", "broadcast")
        return
    if len(content) > MAX_CHARS:
        ctx.reply(f"广播内容太长了（{len(content)} 字），请控制在 {MAX_CHARS} 字以内。")
        return
    content = as_typed(ctx.message.text, content)
    teams = await teams_to_act_for(ctx, (tag.group(1) if tag else None), "broadcast")
    if teams is None:
        return
    if not teams:
        ctx.reply("您管辖的单位没有直属队伍。请写明队伍：广播 队伍:队伍名 内容")
        return
    if len(teams) > 1:
        await ask_which_team(ctx, teams, "broadcast_team", {"content": content}, "发到哪个队伍？")
        return
    await _send(ctx, teams[0], content)


@router.on_state("broadcast_team")
async def pick_team(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """A captain of several teams picks where the broadcast goes."""
    team = await chosen_team(ctx, text, state)
    if team is None:
        return False
    await ctx.state.clear(ctx.state_key)
    await _send(ctx, team, state["content"])
    return True


async def _send(ctx: Context, team: Team, content: str) -> None:
    if not await may_lead(ctx, team):
        ctx.refuse(f"只有「{team.name}」的队长可以向它广播。", "broadcast", "team", team.id)
        return
    role = "队长" if team.id in captain_team_ids(ctx) else "管理员"
    groups = (await ctx.session.execute(
        select(func.count()).select_from(TeamGroup).where(TeamGroup.team_id == team.id))).scalar_one()
    muted = (await ctx.session.execute(
        select(func.count()).select_from(TeamMember).join(Person, Person.id == TeamMember.person_id)
        .where(TeamMember.team_id == team.id, Person.dm_opt_in.is_(False), Person.id != ctx.person.id)
    )).scalar_one()
    # The answer is written first so it leaves before the copies; its text needs their count.
    answer = ctx.reply(f"已广播到「{team.name}」。")
    reached = await ctx.notifier.team(team, f"📢「{team.name}」{role} {ctx.person.name}：\n{content}",
                                      ref=f"broadcast:{team.id}", exclude_person_ids={ctx.person.id})
    ctx.audit("broadcast", "team", team.id, groups=groups, direct=reached - groups, chars=len(content))
    answer.text = f"已广播到「{team.name}」：群 {groups} 个，队员私信 {reached - groups} 人。"
    if muted:
        answer.text += f"另有 {muted} 人开了免打扰，只能在队伍群里看到。"


@router.command("免打扰", "/mute", args=False)
async def mute(ctx: Context, args: str) -> None:
    """Stop direct messages for broadcasts, new tasks and new activities."""
    if not ctx.person.dm_opt_in:
        ctx.reply("您已经开着免打扰了。想恢复私信通知，请发：开启通知")
        return
    ctx.person.dm_opt_in = False
    ctx.audit("dm_opt_out", "person", ctx.person.id)
    ctx.reply("好的，已开启免打扰：队伍广播、新任务和新活动不再私信您（队伍群里照常能看到）。"
              "和您本人有关的消息（报名递补、时长核定等）仍会告诉您。恢复请发：开启通知")


@router.command("开启通知", "/unmute", args=False)
async def unmute(ctx: Context, args: str) -> None:
    """Receive direct messages for broadcasts, new tasks and new activities again."""
    if ctx.person.dm_opt_in:
        ctx.reply("您的私信通知本来就是开着的。")
        return
    ctx.person.dm_opt_in = True
    ctx.audit("dm_opt_in", "person", ctx.person.id)
    ctx.reply("好的，已开启私信通知：队伍广播、新任务和新活动会私信告诉您。")
