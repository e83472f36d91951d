"""关注: a new follower of the bot's account is welcomed and asked which village they live in.

Channels deliver a follow (WeChat's `subscribe`, a QR-code scan) as `/follow [scene]`. A scene
is a deep link as on Telegram's /start ("join_KJ2026" joins that team). Someone with no
village yet is asked for it, and a bare village name ("蓬莱") then answers the question;
anything else they send goes on as usual (a request is kept until they register).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from handlers.core.context import Context
from handlers.core.places import find_villages
from handlers.core.router import Router
from handlers.people.help import help_text
from handlers.people.registration import join_team, register

router = Router("welcome")

AWAITING = "follow_village"
ASK_TTL = timedelta(hours=24)
# Longer answers are a request or a sentence, not the name of a village.
MAX_VILLAGE_ANSWER = 20


@router.command("/follow")
async def follow(ctx: Context, args: str) -> None:
    """Welcome a new follower; ask for their village, or join the team a QR code names."""
    scene = args.strip()
    if scene.startswith("join_"):
        await join_team(ctx, scene.removeprefix("join_").replace("_", " ", 1))
        return
    if ctx.person.org_unit_id is None and not ctx.person.is_volunteer:
        await ctx.state.set(ctx.state_key, {"awaiting": AWAITING}, ASK_TTL)
        ctx.reply("欢迎关注新风志愿服务！有什么需要，志愿者可以上门帮忙。\n"
                  "请先告诉我您住在哪个村或社区，直接回复村名就行，例如：杨树村")
        return
    ctx.reply(f"欢迎回来，{ctx.person.name}！\n" + help_text(ctx))


@router.on_state(AWAITING)
async def village_answer(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """Take a bare village name as the answer; anything else is handled as usual."""
    name = text.strip()
    if not name or len(name) > MAX_VILLAGE_ANSWER:
        return False
    hits, _ = await find_villages(ctx.session, name)
    if not hits:
        return False
    await ctx.state.clear(ctx.state_key)
    await register(ctx, name)
    return True
