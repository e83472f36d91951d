"""换邀请码 [队伍名]: a captain or admin replaces a team's invite code when the old one went too far.

The change is the `invite_rotate` action (`handlers.people.actions.invites`); this module finds
the team meant — the one named, the only one led, or a choice among several — and replies.
"""

from __future__ import annotations

from typing import Any

from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.leadership import chosen_team, refuse_non_leader, the_team_to_act_for
from handlers.core.rights import leads_anywhere
from handlers.core.router import Router
from handlers.people.actions.invites import rotate_invite
from handlers.people.invite import show_invite
from storage.models import Team

router = Router("invite_rotation")

AWAITING = "invite_rotate_team"


async def _rotate(ctx: Context, team: Team) -> None:
    outcome = await rotate_invite(ctx.act, team)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
        return
    show_invite(ctx, team, code=outcome.new,
                heading=f"「{team.name}」的新邀请码：{outcome.new}\n旧的 {outcome.old} 已经不能用了，之前发出的链接和二维码也一样。")


@router.command("换邀请码", "/newinvite")
async def rotate(ctx: Context, args: str) -> None:
    """Replace my team's invite code: 换邀请码 [队伍名]."""
    if not await leads_anywhere(ctx.act):
        await refuse_non_leader(ctx, "只有队长或管理员可以换邀请码。", "invite_rotate")
        return
    team = await the_team_to_act_for(ctx, args.strip() or None, "invite_rotate", awaiting=AWAITING,
                                     prompt="要换哪个队伍的邀请码？",
                                     unnamed="您管辖的单位没有直属队伍。请写明队伍：换邀请码 队伍名")
    if team is not None:
        await _rotate(ctx, team)


@router.on_state(AWAITING)
async def pick_team(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """A leader of several teams picks whose code to replace (judged again by the action)."""
    team = await chosen_team(ctx, text, state)
    if team is None:
        return False
    await ctx.state.clear(ctx.state_key)
    await _rotate(ctx, team)
    return True
