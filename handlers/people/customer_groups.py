"""绑定客户群 <群名>: a captain, in the WeCom app, binds a customer group they own to their team.

Village volunteers chat in ordinary WeChat groups; when the captain who owns one is a WeCom
member, it is a customer group (客户群) and the team's broadcasts, new activities, wishes and
the moral-day message can reach it as a group message the captain confirms with one tap.
The groups are those WeCom listed for the captain (refreshed daily); the change is the audited
`customer_group_bind` action.
"""

from __future__ import annotations

import re

from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.leadership import teams_to_act_for
from handlers.core.router import Router
from handlers.core.texts import usage
from handlers.people.actions.customer_groups import bind_customer_group
from storage.people.customer_groups import groups_named, known_groups

router = Router("customer_groups")

_TEAM_TAG = re.compile(r"\s*队伍\s*[:：]\s*(\S+)\s*$")


@router.command("绑定客户群")
async def bind(ctx: Context, args: str) -> None:
    """Bind a WeChat customer group I own to my team (captains, in the WeCom app): 绑定客户群 <群名>."""
    if ctx.message.platform != "wecom" or ctx.in_group:
        ctx.reply("请在企业微信应用里私聊发送：绑定客户群 群名（您要是这个微信群的群主）。")
        return
    tag = _TEAM_TAG.search(args)
    name = (args[:tag.start()] if tag else args).strip()
    owner = ctx.message.user_id
    if not name:
        mine = await known_groups(ctx.session, owner=owner)
        listed = "、".join(g.name for g in mine[:10]) or "（还没有：企业微信每天同步一次您做群主的客户群）"
        ctx.reply(usage("绑定客户群 群名", "绑定客户群 曹家村志愿者群") + f"\n您做群主的客户群：{listed}")
        return
    found = await groups_named(ctx.session, name, owner=owner)
    if not found:
        ctx.reply(f"没有找到您做群主、名叫「{name}」的客户群。群要在企业微信里由您创建或转给您，每天同步一次。")
        return
    if len(found) > 1:
        ctx.reply(f"有几个客户群符合「{name}」：{'、'.join(g.name for g in found[:5])}。请写全群名。")
        return
    teams = await teams_to_act_for(ctx, tag.group(1) if tag else None, "customer_group_bind")
    if teams is None:
        return
    if len(teams) != 1:
        ctx.reply("您带着几支队伍，请写明队伍：绑定客户群 群名 队伍:队伍名" if teams else "只有队长可以绑定客户群。")
        return
    outcome = await bind_customer_group(ctx.act, team=teams[0], group=found[0], owner=owner)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif outcome.already:
        ctx.reply(f"「{outcome.group.name}」已经是「{outcome.team.name}」的客户群了。")
    else:
        ctx.reply(f"✅ 已把客户群「{outcome.group.name}」（{outcome.group.member_count} 人）绑定到「{outcome.team.name}」。"
                  "以后本队的广播、新活动、微心愿和道德日提醒会生成群发，在企业微信里点一下「发送」就能发到群里。")
