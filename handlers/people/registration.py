"""注册 and 加入: a resident sets their village; a volunteer joins a team by invite code.

Village names are matched loosely ("杨家村" finds "杨家村新时代文明实践站"); a near miss
gets suggestions rather than a flat "not found", and a county or town ("注册 北票") names
the villages under it. The changes are the `register` and `join`
actions in `handlers.people.actions.accounts`.
"""

from __future__ import annotations

from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.places import find_villages, suggest_villages
from handlers.core.router import Router
from handlers.core.texts import usage
from handlers.people.actions.accounts import Account
from handlers.people.actions.claims import ClaimPending
from handlers.people.actions.accounts import join_team as join_by_invite
from handlers.people.actions.accounts import register as register_home
from handlers.people.help import help_text
from handlers.tasks.intake import start_draft

router = Router("registration")

# A roster name is at most this long (the people table's column).
MAX_NAME = 100


def claim_pending_text(claim: ClaimPending) -> str:
    """What someone asking to act as a roster person is told: who must confirm, and the code's way."""
    who = "、".join(a.name for a in claim.approvers[:3])
    asked = f"我已请 {who} 确认（对方点「同意」即可）。" if who else "这个身份要由管理员确认，请直接联系您的站长。"
    code = (f"\n如果您在别的账号上用过新风，验证码已经发到那个账号：在这里发送「验证码 六位数字」也可以。"
            if claim.code_sent else "")
    return (f"已收到申请：要以花名册上「{claim.person.name}」的身份加入「{claim.team.name}」，需要先确认是本人。"
            f"{asked}{code}\n确认之前，这个账号还不能以{claim.person.name}的身份接单、广播或查看联系方式。")


@router.command("注册", "/register")
async def register(ctx: Context, args: str) -> None:
    """Set the village (station) I live in."""
    if not args:
        ctx.reply(usage("注册 村名", "注册 杨家村"))
        return
    hits, near = await find_villages(ctx.session, args)
    if not hits:
        # Never a dead end: a near miss, the villages of the area named, or of the person's county.
        if near:
            ctx.reply(f"没有找到「{args}」。您是说：", [Button(u.name, f"注册 {u.code}") for u in near])
            return
        why, villages = await suggest_villages(ctx.session, args, ctx.person.org_unit_id)
        if villages:
            ctx.reply(f"没有找到叫「{args}」的村/社区。{why}，点一下就能登记（或发：注册 村名）：",
                      [Button(u.name, f"注册 {u.code}") for u in villages])
        else:
            ctx.reply(f"没有找到「{args}」。请检查村名，或问问村里的文明实践站站长。")
        return
    if len(hits) > 1:
        ctx.reply(f"有 {len(hits)} 个地方符合「{args}」，请选择：",
                  [Button(u.name, f"注册 {u.code}") for u in hits[:8]])
        return
    unit = hits[0]
    await register_home(ctx.act, unit=unit)
    ctx.reply(f"好的，{ctx.person.name}，已登记您在「{unit.name}」。有什么需要，直接告诉我就行，比如：家里水管冻裂了，需要人帮忙修。")
    pending = await ctx.state.get(ctx.state_key)
    if pending and pending.get("awaiting") == "register_first" and pending.get("request"):
        # The request that was waiting for the village goes on to its draft now.
        await start_draft(ctx, pending["request"], written=pending.get("written"))


async def join_team(ctx: Context, args: str) -> None:
    """Join a team with its invite code; a roster name asks to act as that person, once proved."""
    code, _, name = args.strip().partition(" ")
    if not code:
        ctx.reply(usage("加入 邀请码 [您的姓名]", "加入 KJ2026 张三"))
        return
    joined = await join_by_invite(ctx.act, invite_code=code, name=name.strip()[:MAX_NAME],
                                  account=Account(ctx.message.platform, ctx.message.user_id),
                                  display_name=ctx.message.user_name)
    if isinstance(joined, Refused):
        ctx.reply(joined.reason)
    elif isinstance(joined, ClaimPending):
        ctx.reply(claim_pending_text(joined))
    elif joined.already:
        ctx.reply(f"{joined.person.name}，您已经是「{joined.team.name}」的队员了。")
    else:
        ctx.reply(f"欢迎 {joined.person.name} 加入「{joined.team.name}」！有新任务时我会通知您，点「接单」就能接。"
                  "发送 帮助 查看怎么用。")


@router.command("加入", "/join")
async def join(ctx: Context, args: str) -> None:
    """Join a team: 加入 <邀请码> [姓名]."""
    await join_team(ctx, args)


@router.command("/start")
async def start(ctx: Context, args: str) -> None:
    """Greet a new chat; a deep link `start join_<invite>` joins a team at once."""
    if args.startswith("join_"):
        await join_team(ctx, args.removeprefix("join_").replace("_", " ", 1))
        return
    ctx.reply("您好，我是新风志愿服务助手！\n" + help_text(ctx))
