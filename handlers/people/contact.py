"""分享手机号: a chat account proves its phone number and is linked to the roster person with it.

Rosters are imported from spreadsheets keyed by phone (docs/import.md). A platform that can
prove a number (Telegram's shared contact, when the contact is the sender's own) sets
`InboundMessage.verified_phone`; only then is the account linked. A contact someone forwards
of another person, or a number typed as text, proves nothing and links nothing. The linking
is the `link_contact` action in `handlers.people.actions.accounts`.
"""

from __future__ import annotations

import re

from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.router import Router
from handlers.core.texts import mask_phone
from handlers.people.actions.accounts import Account, Linked, link_contact

router = Router("contact")

# The command a shared contact arrives as, and what the 「分享手机号」 button sends.
CONTACT_COMMAND = "/contact"
# Platforms whose adapters can prove a phone number (a contact-request button).
PROVING_PLATFORMS = {"telegram"}


def normalize_phone(raw: str) -> str:
    """A mainland mobile number as rosters write it: "+86 139-0000-0001" → "13900000001"."""
    digits = re.sub(r"\D", "", raw)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix):]
    return digits


def share_button() -> list[Button]:
    """The button that asks the platform for the sender's own contact."""
    return [Button("📱 分享我的手机号", CONTACT_COMMAND)]


@router.command(CONTACT_COMMAND, "分享手机号", "绑定手机号", args=False)
async def shared_contact(ctx: Context, args: str) -> None:
    """Link this chat account to the roster person whose phone the platform has proved."""
    if ctx.in_group:
        ctx.reply("为了保护隐私，请私聊我分享手机号。")
        return
    phone = normalize_phone(ctx.message.verified_phone or "")
    shared = any(m.kind == "contact" for m in ctx.message.media)
    if not phone and not shared:
        if ctx.message.platform in PROVING_PLATFORMS:
            ctx.reply("点下面的「📱 分享我的手机号」，我会按手机号找到您在花名册里的信息。", share_button())
        else:
            ctx.reply("这里无法验证手机号。志愿者请发送：加入 邀请码 您的姓名")
        return
    outcome = await link_contact(ctx.act, phone=phone or None,
                                 account=Account(ctx.message.platform, ctx.message.user_id))
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif outcome.result is Linked.not_on_roster:
        ctx.reply(f"谢谢！已记下您的手机号 {mask_phone(phone)}，但花名册里还没有这个号码。"
                  "志愿者请让队长把您加入名单，或发送：加入 邀请码；居民请发送：注册 村名")
    elif outcome.person is not None and outcome.result is Linked.already:
        ctx.reply(f"{outcome.person.name}，您的手机号 {mask_phone(phone)} 已经绑定好了。")
    elif outcome.person is not None:
        where = f"（{'、'.join(outcome.teams)}）" if outcome.teams else ""
        ctx.reply(f"您好，{outcome.person.name}{where}！已按手机号 {mask_phone(phone)} 把这个账号和您在花名册里的信息绑定。"
                  "发送 帮助 查看能做什么。")
