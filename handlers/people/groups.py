"""绑定群 / 解绑群: a captain binds a group chat to their team, so tasks and broadcasts reach it.

Platform-neutral: any channel with group chats (Telegram groups, WeCom app chats) delivers
`/bindgroup` or 「绑定群」 from inside the group. Only a captain of the team may bind, and only
from inside the group itself, so nobody can point a team's tasks (and the buttons that hand
out residents' requests) at a chat they do not sit in. A group serves one team.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.permissions import captain_team_ids
from handlers.core.router import Router
from storage.models import Team, TeamGroup

router = Router("groups")


async def _bound(ctx: Context) -> TeamGroup | None:
    """The binding of the group this message came from, if any."""
    stmt = select(TeamGroup).where(
        TeamGroup.platform == ctx.message.platform, TeamGroup.chat_id == ctx.message.chat_id
    )
    return (await ctx.session.execute(stmt)).scalar_one_or_none()


def _matches(team: Team, query: str) -> bool:
    q = query.strip().lower()
    return q in (team.code.lower(), team.name.lower()) or q in team.name.lower()


async def _team_to_bind(ctx: Context, args: str, teams: list[Team]) -> Team | None:
    """The captain's team this command names; asks (with buttons) when that is unclear."""
    if len(teams) == 1 and (not args or _matches(teams[0], args)):
        return teams[0]
    hits = [t for t in teams if _matches(t, args)] if args else []
    if len(hits) == 1:
        return hits[0]
    if args and not hits:
        ctx.refuse(f"您不是「{args}」的队长，不能把本群绑定给它。您是这些队伍的队长："
                   + "、".join(t.name for t in teams), "bind_group")
        return None
    choices = hits or teams
    ctx.reply("您是几支队伍的队长，请选择要绑定本群的队伍：",
              [Button(t.name, f"/bindgroup {t.code}") for t in choices[:8]])
    return None


@router.command("绑定群", "绑定本群", "/bindgroup")
async def bind_group(ctx: Context, args: str) -> None:
    """Bind this group chat to my team (captains, inside the group): /bindgroup [队伍名]."""
    if not ctx.in_group:
        ctx.reply("请把我拉进队伍的群，然后在群里发送 /bindgroup（或「绑定群」）。")
        return
    captained = captain_team_ids(ctx)
    if not captained:
        ctx.refuse("只有队长可以把群绑定到队伍。请队长在群里发送 /bindgroup。", "bind_group")
        return
    teams = list((await ctx.session.execute(
        select(Team).where(Team.id.in_(captained)).order_by(Team.id)
    )).scalars())
    team = await _team_to_bind(ctx, args, teams)
    if team is None:
        return
    existing = await _bound(ctx)
    if existing is not None:
        other = await ctx.session.get(Team, existing.team_id)
        name = other.name if other else "另一支队伍"
        if existing.team_id == team.id:
            ctx.reply(f"本群已经是「{team.name}」的队伍群了。")
        else:
            ctx.refuse(f"本群已经绑定了「{name}」。一个群只能服务一支队伍，"
                       f"如需改绑，请「{name}」的队长先发送 /unbindgroup。", "bind_group", "team", team.id)
        return
    try:
        async with ctx.session.begin_nested():
            ctx.session.add(TeamGroup(team_id=team.id, platform=ctx.message.platform,
                                      chat_id=ctx.message.chat_id, title=f"{team.name}群"))
    except IntegrityError:
        # Another captain bound this group a moment ago.
        ctx.reply("本群刚刚已被绑定到别的队伍，请发送 /bindgroup 查看。")
        return
    ctx.audit("bind_group", "team", team.id, platform=ctx.message.platform, chat_id=ctx.message.chat_id)
    groups = (await ctx.session.execute(
        select(func.count(TeamGroup.id)).where(TeamGroup.team_id == team.id)
    )).scalar_one()
    more = f"（本队现在有 {groups} 个群）" if groups > 1 else ""
    ctx.reply(f"✅ 本群已绑定为「{team.name}」的队伍群{more}。派给本队的新任务和队长的广播会发到这里，"
              "队员直接点「接单」就能接。还没加入队伍的群友，请私聊我发送：加入 邀请码")


@router.command("解绑群", "解绑本群", "/unbindgroup", args=False)
async def unbind_group(ctx: Context, args: str) -> None:
    """Unbind this group chat from its team (that team's captain, inside the group)."""
    if not ctx.in_group:
        ctx.reply("请在要解绑的群里发送 /unbindgroup。")
        return
    existing = await _bound(ctx)
    if existing is None:
        ctx.reply("本群还没有绑定任何队伍。")
        return
    team = await ctx.session.get(Team, existing.team_id)
    name = team.name if team else "该队伍"
    if existing.team_id not in captain_team_ids(ctx):
        ctx.refuse(f"只有「{name}」的队长可以解绑本群。", "unbind_group", "team", existing.team_id)
        return
    await ctx.session.delete(existing)
    ctx.audit("unbind_group", "team", existing.team_id, platform=ctx.message.platform, chat_id=ctx.message.chat_id)
    ctx.reply(f"本群已与「{name}」解绑，新任务不会再发到这里。")
