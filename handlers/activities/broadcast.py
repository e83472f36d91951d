"""广播 · 免打扰 · 开启通知: a captain speaks to the whole team; members choose whether to get DMs.

A broadcast goes to the team's bound groups first (one message reaches everyone there) and
then, as direct messages, to members who have not opted out (the `broadcast` action in
`handlers.activities.actions.broadcast`). This module reads the command, finds the team a
captain or admin means, and answers.
"""

from __future__ import annotations

import re
from typing import Any

from handlers.activities.actions.broadcast import broadcast as send_broadcast
from handlers.activities.actions.broadcast import opt_in_to_dms, opt_out_of_dms
from handlers.activities.texts import run_on
from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.leadership import chosen_team, refuse_non_leader, the_team_to_act_for
from handlers.core.rights import leads_anywhere
from handlers.core.router import NOT_MINE, Router
from handlers.core.texts import as_typed, usage
from storage.models import Team

router = Router("broadcast")

# Well under Telegram's 4,096 characters and WeChat's 2,048-byte text limit once the header is added.
MAX_CHARS = 600
_TEAM_TAG = re.compile(r"队伍\s*:\s*(\S+)\s*")


@router.command("广播", "/broadcast")
async def broadcast(ctx: Context, args: str) -> object:
    """Send a message to my team's groups and opted-in members: 广播 <内容>."""
    content = args.strip()
    tag = _TEAM_TAG.match(content)
    if tag:
        content = content[tag.end():].strip()
    if not content:
        ctx.reply(usage("广播 内容", "广播 明天上午9点在村文化广场集合，请大家准时到"))
        return None
    if not await leads_anywhere(ctx.act):
        if run_on(ctx, "广播"):
            return NOT_MINE  # "广播喇叭坏了": a villager's request, for the intake
        await refuse_non_leader(ctx, "只有本队队长可以广播。", "broadcast")
        return None
    if len(content) > MAX_CHARS:
        ctx.reply(f"广播内容太长了（{len(content)} 字），请控制在 {MAX_CHARS} 字以内。")
        return None
    content = as_typed(ctx.message.text, content)
    team = await the_team_to_act_for(ctx, (tag.group(1) if tag else None), "broadcast", awaiting="broadcast_team",
                                     payload={"content": content}, prompt="发到哪个队伍？",
                                     unnamed="您管辖的单位没有直属队伍。请写明队伍：广播 队伍:队伍名 内容")
    if team is not None:
        await _send(ctx, team, content)
    return None


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
    sent = await send_broadcast(ctx.act, team=team, content=content)
    if isinstance(sent, Refused):
        ctx.reply(sent.reason)
        return
    answer = f"已广播到「{team.name}」：群 {sent.groups} 个，队员私信 {sent.direct} 人。"
    if sent.muted:
        answer += f"另有 {sent.muted} 人开了免打扰，只能在队伍群里看到。"
    ctx.reply(answer)


@router.command("免打扰", "/mute", args=False)
async def mute(ctx: Context, args: str) -> None:
    """Stop direct messages for broadcasts, new tasks and new activities."""
    if not await opt_out_of_dms(ctx.act):
        ctx.reply("您已经开着免打扰了。想恢复私信通知，请发：开启通知")
        return
    ctx.reply("好的，已开启免打扰：队伍广播、新任务和新活动不再私信您（队伍群里照常能看到）。"
              "和您本人有关的消息（报名递补、时长核定等）仍会告诉您。恢复请发：开启通知")


@router.command("开启通知", "/unmute", args=False)
async def unmute(ctx: Context, args: str) -> None:
    """Receive direct messages for broadcasts, new tasks and new activities again."""
    if not await opt_in_to_dms(ctx.act):
        ctx.reply("您的私信通知本来就是开着的。")
        return
    ctx.reply("好的，已开启私信通知：队伍广播、新任务和新活动会私信告诉您。")
