"""邀请码: a captain (or an admin, for the teams in their area) gets what to hand a new volunteer.

The answer is the team's invite code and the words to type (`加入 <邀请码> 姓名`), which work on
every channel, and — where the channel can draw one — a QR code that joins the team when
scanned: on Telegram a picture of the `t.me/<bot>?start=join_<邀请码>` link (with the link
itself), on a WeChat Official Account the account's parametric QR code (scanning it follows the
account and sends `qrscene_join_<邀请码>`). The handler only asks for "a QR code opening the bot
with join_<邀请码>" (`storage.messaging.deeplinks`): the bot's name and the platform's API
belong to the channel. Nothing changes state here, so there is no domain action; someone who
leads no team is told politely how invite codes work (and the refusal is audited), never
handed to the request intake.
"""

from __future__ import annotations

from typing import Any

from handlers.core.context import Context
from handlers.core.leadership import chosen_team, the_team_to_act_for
from handlers.core.rights import leads_anywhere, may_lead, member_team_ids
from handlers.core.router import Router
from handlers.people.registration import join_team
from storage.messaging.deeplinks import PAYLOAD, ask_for_qr
from storage.models import Team
from storage.people.network import captains_of, team_by_invite, teams_by_ids

router = Router("invite")

AWAITING = "invite_team"
# The channels that draw a deep-link QR code (Telegram, a WeChat Official Account); elsewhere
# (WeCom, the console) the code and the words to type are the whole answer.
QR_PLATFORMS = frozenset({"telegram", "wechat"})
# Captains named to a member who asks: enough to find one.
MAX_CAPTAINS_NAMED = 3


@router.command("邀请", args=False)
@router.command("邀请码", "/invite")
async def invite(ctx: Context, args: str) -> None:
    """Show my team's invite code, its link and QR code: 邀请码 [队伍名]."""
    query = args.strip()
    if not await leads_anywhere(ctx.act):
        if query and await team_by_invite(ctx.session, query) is not None:
            await join_team(ctx, query)  # 「邀请码 KJ2026」: they have a code and want to join with it
            return
        ctx.refuse(await _not_a_leader(ctx), "invite")
        return
    team = await the_team_to_act_for(ctx, query or None, "invite", awaiting=AWAITING, prompt="要哪个队伍的邀请码？",
                                     unnamed="您管辖的单位没有直属队伍。请写明队伍：邀请码 队伍名")
    if team is not None:
        show_invite(ctx, team)


@router.on_state(AWAITING)
async def pick_team(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """A leader of several teams picks whose invite they want."""
    team = await chosen_team(ctx, text, state)
    if team is None:
        return False
    await ctx.state.clear(ctx.state_key)
    if not await may_lead(ctx.act, team):  # judged now: the grant may be gone since the question
        ctx.refuse(f"您已不是「{team.name}」的队长或管理员，不能查看它的邀请码。", "invite", "team", team.id)
        return True
    show_invite(ctx, team)
    return True


def show_invite(ctx: Context, team: Team, code: str | None = None, heading: str | None = None) -> None:
    """Reply with the team's invite code and how to use it; ask the channel for its QR code where it draws one.

    `code` and `heading` serve 换邀请码, which shows the new code (and its new link and QR code:
    the old ones stopped working with the old code).
    """
    code = code or team.invite_code
    payload = f"join_{code}"
    with_qr = ctx.message.platform in QR_PLATFORMS and PAYLOAD.fullmatch(payload) is not None
    # The words to scan the code are the channel's to add, once the code is really drawn: a
    # platform may refuse to make one (`bot.channels.deeplinks`).
    heading = heading or f"「{team.name}」的邀请码：{code}"
    row = ctx.reply(f"{heading}\n新队员给我发送下面这句话就能加入：\n加入 {code} 姓名")
    if with_qr:
        ask_for_qr(row, payload)


async def _not_a_leader(ctx: Context) -> str:
    """Why someone who leads no team gets no invite code, and where they can get one."""
    team_ids = sorted(await member_team_ids(ctx.act))
    if not team_ids:
        return ("邀请码是志愿服务队的队长发给新队员的，我这里不能替您查。"
                "拿到邀请码后，发送「加入 邀请码 您的姓名」就能入队；扫队长给的二维码也行。")
    lines = ["只有队长可以发邀请码。想邀请朋友一起参加，请找队长要："]
    for team in await teams_by_ids(ctx.session, team_ids):
        captains = [p.name for p in await captains_of(ctx.session, team.id)][:MAX_CAPTAINS_NAMED]
        lines.append(f"· 「{team.name}」队长：{'、'.join(captains) if captains else '暂未登记'}")
    return "\n".join(lines)
