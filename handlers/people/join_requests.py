"""同意绑定 · 拒绝绑定 · 验证码: deciding a request to act as a roster person, or proving it.

A captain (or an admin, for a captain's or an admin's row) answers a request with the
「同意」/「拒绝」 buttons the bot sent them, which send `同意绑定 #<申请号>` / `拒绝绑定 #<申请号>`;
the person themselves can instead type, from the new account, the one-time code sent to their
account already linked: `验证码 123456`. The decisions are the actions in
`handlers.people.actions.claims`; this module reads the words and replies.
"""

from __future__ import annotations

import re

from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.router import NOT_MINE, Router
from handlers.core.texts import usage
from handlers.language.textnorm import parse_ref
from handlers.people.actions.claims import LinkDecided, NoRequest, approve_link, prove_link, refuse_link
from storage.people.link_requests import request_by_id

router = Router("join_requests")

_CODE = re.compile(r"\d{6}")


async def _decide(ctx: Context, args: str, approve: bool) -> None:
    """The shared half of 同意绑定 and 拒绝绑定."""
    command = "同意绑定" if approve else "拒绝绑定"
    request_id = parse_ref(args.split()[0]) if args.split() else None
    request = await request_by_id(ctx.session, request_id) if request_id is not None else None
    if request_id is None:
        ctx.reply(usage(f"{command} #申请号", f"{command} #3"))
        return
    if request is None:
        ctx.reply(f"没有找到绑定申请 #{request_id}。")
        return
    outcome = await (approve_link if approve else refuse_link)(ctx.act, request)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif outcome.approved:
        ctx.reply(f"已同意：这个账号现在可以以「{outcome.person.name}」的身份使用了，我已告诉对方。")
    else:
        ctx.reply(f"已拒绝以「{outcome.person.name}」身份绑定的申请，我已告诉对方。")


@router.command("同意绑定", "/approve_link")
async def approve(ctx: Context, args: str) -> None:
    """Approve a request to act as a member of my team: 同意绑定 #3."""
    await _decide(ctx, args, approve=True)


@router.command("拒绝绑定", "/refuse_link")
async def refuse(ctx: Context, args: str) -> None:
    """Refuse a request to act as a member of my team: 拒绝绑定 #3."""
    await _decide(ctx, args, approve=False)


@router.command("验证码", "/linkcode")
async def code(ctx: Context, args: str) -> object:
    """Prove, from a new account, that I am the roster person: 验证码 123456 (sent to my other account)."""
    word = args.strip()
    if not _CODE.fullmatch(word):
        if word:
            return NOT_MINE  # "验证码收不到…": a sentence, for the intake
        ctx.reply(usage("验证码 六位数字", "验证码 123456"))
        return None
    if ctx.in_group:
        ctx.reply("为了安全，请私聊我发送验证码。")
        return None
    outcome = await prove_link(ctx.act, platform=ctx.message.platform, external_id=ctx.message.user_id, code=word)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, NoRequest):
        ctx.reply("这个账号没有等待验证的申请（或已过期）。要以花名册上的身份加入，请先发送：加入 邀请码 您的姓名")
    elif isinstance(outcome, LinkDecided):
        where = f"（{outcome.team.name}）" if outcome.team is not None else ""
        ctx.reply(f"验证成功！您好，{outcome.person.name}{where}，这个账号已经和您的身份绑定。发送 帮助 查看能做什么。")
    return None
