"""分享手机号: a chat account proves its phone number and is linked to the roster person with it.

Rosters are imported from spreadsheets keyed by phone (PRODUCT.md §9). A platform that can
prove a number (Telegram's shared contact, when the contact is the sender's own) sets
`InboundMessage.verified_phone`; only then is the account linked. A contact someone forwards
of another person, or a number typed as text, proves nothing and links nothing.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.router import Router
from handlers.core.texts import mask_phone
from storage.models import Person, Team, TeamMember
from storage.people.identities import link_identity

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
    if not phone:
        if any(m.kind == "contact" for m in ctx.message.media):
            ctx.refuse("只能分享您本人的手机号：请点下面的按钮，而不是转发别人的名片。", "link_contact")
            return
        if ctx.message.platform in PROVING_PLATFORMS:
            ctx.reply("点下面的「📱 分享我的手机号」，我会按手机号找到您在花名册里的信息。", share_button())
        else:
            ctx.reply("这里无法验证手机号。志愿者请发送：加入 邀请码 您的姓名")
        return
    roster = (await ctx.session.execute(
        select(Person).where(Person.phone == phone).order_by(Person.id).limit(1)
    )).scalar_one_or_none()
    if roster is None:
        ctx.person.phone = ctx.person.phone or phone
        ctx.audit("link_contact", "person", ctx.person.id, outcome="not_on_roster")
        ctx.reply(f"谢谢！已记下您的手机号 {mask_phone(phone)}，但花名册里还没有这个号码。"
                  "志愿者请让队长把您加入名单，或发送：加入 邀请码；居民请发送：注册 村名")
        return
    if roster.id == ctx.person.id:
        ctx.reply(f"{roster.name}，您的手机号 {mask_phone(phone)} 已经绑定好了。")
        return
    await link_identity(ctx.session, platform=ctx.message.platform, external_id=ctx.message.user_id,
                        person_id=roster.id, now=ctx.now)
    ctx.audit("link_identity", "person", roster.id, platform=ctx.message.platform, method="contact",
              previous_person_id=ctx.person.id)
    teams = list((await ctx.session.execute(
        select(Team.name).join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.person_id == roster.id).order_by(Team.id)
    )).scalars())
    where = f"（{'、'.join(teams)}）" if teams else ""
    ctx.reply(f"您好，{roster.name}{where}！已按手机号 {mask_phone(phone)} 把这个账号和您在花名册里的信息绑定。"
              "发送 帮助 查看能做什么。")
