"""绑定群 / 解绑群: a captain binds a group chat to their team, so tasks and broadcasts reach it.

Platform-neutral: any channel with group chats (Telegram groups, WeCom app chats) delivers
`/bindgroup` or 「绑定群」 from inside the group. Only a captain of the team may bind, and only
from inside the group itself, so nobody can point a team's tasks (and the buttons that hand
out residents' requests) at a chat they do not sit in. A group serves one team. The changes
are the `bind_group` and `unbind_group` actions in `handlers.people.actions.groups`.
"""

from __future__ import annotations

from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.router import Router
from handlers.people.actions.groups import BindRaced, Chat, ChooseTeam
from handlers.people.actions.groups import bind_group as bind
from handlers.people.actions.groups import unbind_group as unbind

router = Router("groups")


def _chat(ctx: Context) -> Chat:
    return Chat(ctx.message.platform, ctx.message.chat_id)


@router.command("绑定群", "绑定本群", "/bindgroup")
async def bind_group(ctx: Context, args: str) -> None:
    """Bind this group chat to my team (captains, inside the group): /bindgroup [队伍名]."""
    if not ctx.in_group:
        ctx.reply("请把我拉进队伍的群，然后在群里发送 /bindgroup（或「绑定群」）。")
        return
    outcome = await bind(ctx.act, chat=_chat(ctx), query=args)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, ChooseTeam):
        ctx.reply("您是几支队伍的队长，请选择要绑定本群的队伍：",
                  [Button(t.name, f"/bindgroup {t.code}") for t in outcome.teams])
    elif isinstance(outcome, BindRaced):
        ctx.reply("本群刚刚已被绑定到别的队伍，请发送 /bindgroup 查看。")
    elif outcome.already:
        ctx.reply(f"本群已经是「{outcome.team.name}」的队伍群了。")
    else:
        more = f"（本队现在有 {outcome.groups} 个群）" if outcome.groups > 1 else ""
        ctx.reply(f"✅ 本群已绑定为「{outcome.team.name}」的队伍群{more}。派给本队的新任务和队长的广播会发到这里，"
                  "队员直接点「接单」就能接。还没加入队伍的群友，请私聊我发送：加入 邀请码")


@router.command("解绑群", "解绑本群", "/unbindgroup", args=False)
async def unbind_group(ctx: Context, args: str) -> None:
    """Unbind this group chat from its team (that team's captain, inside the group)."""
    if not ctx.in_group:
        ctx.reply("请在要解绑的群里发送 /unbindgroup。")
        return
    outcome = await unbind(ctx.act, chat=_chat(ctx))
    if outcome is None:
        ctx.reply("本群还没有绑定任何队伍。")
    elif isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    else:
        ctx.reply(f"本群已与「{outcome.team_name}」解绑，新任务不会再发到这里。")
