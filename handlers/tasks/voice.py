"""A voice message with no words (语音需求): Telegram, or WeChat with speech recognition off.

The bot cannot listen, but a person can: the villager's station admin (or the nearest admin up
the tree) is asked at once to call them back, and the villager gets a draft "语音需求" that asks
which kind of help it is, by buttons, so the task can be placed when they confirm. The voice
stays on the task. A WeChat voice message that comes with its recognised words is no such
case: its words are read as the request, like typed text (`handlers.tasks.intake`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.core.act import Act, domain_action
from handlers.core.context import Context
from handlers.language.lexicon import OTHER
from handlers.tasks.confirming import present
from handlers.tasks.drafts import VOICE, Draft
from handlers.tasks.ownership import ROUTING_LEVELS, Chain
from handlers.tasks.texts import holder
from storage.models import OrgUnit, Person
from storage.people.network import admins_at_units, units_by_ids
from storage.sql import path_ids


@dataclass(frozen=True)
class CallBackAsked:
    """Who was asked to call the villager back (`unit` None: nobody has an admin up the tree)."""

    unit: OrgUnit | None
    admins: list[Person] = field(default_factory=list)


async def chain_at(act: Act, unit: OrgUnit) -> Chain:
    """The routing chain from a village up to the center, with the admins granted at each level."""
    ids = path_ids(unit.path) or [unit.id]
    units = {u.id: u for u in await units_by_ids(act.session, ids)}
    chain = [units[i] for i in reversed(ids) if i in units and units[i].level in ROUTING_LEVELS]
    return Chain(chain, await admins_at_units(act.session, [u.id for u in chain]))


@domain_action("call_back")
async def ask_call_back(act: Act, resident: Person, unit: OrgUnit) -> CallBackAsked:
    """Ask the nearest admin from the villager's station up to call them back about a voice message."""
    nearest = (await chain_at(act, unit)).nearest_admins()
    if nearest is None:
        act.audit("call_back", "person", resident.id, outcome="nobody")
        return CallBackAsked(None)
    where, admins = nearest
    phone = resident.phone or "没有登记电话，请到家里看看"
    for admin in admins:
        await act.notify.person(admin, f"📞 {resident.name}（{unit.name}，电话：{phone}）发来一条语音需求，"
                                       f"我听不懂语音。请给她/他回个电话，问问需要什么帮助。")
    act.audit("call_back", "person", resident.id, unit_id=where.id, admins=[a.id for a in admins])
    return CallBackAsked(where, admins)


async def voice_request(ctx: Context) -> None:
    """Answer a voice message without words: someone will call back, and the draft asks its category."""
    unit = await ctx.home_unit()
    if unit is None:
        ctx.reply("收到您的语音。我还听不懂语音，请先告诉我您住在哪个村或社区，发送：注册 村名\n例如：注册 杨家村")
        return
    asked = await ask_call_back(ctx.act, ctx.person, unit)
    if asked.unit is not None:
        lead = f"收到您的语音。我还听不懂语音，已请{holder(asked.unit, asked.admins)}给您回电话。"
    else:
        lead = "收到您的语音。我还听不懂语音，方便的话请用文字再说一遍。"
    draft = Draft(resident_id=ctx.person.id, category=OTHER, description=VOICE, unit_name=unit.name, unsure=True,
                  voice=True, media=[{"kind": m.kind, "ref": m.ref} for m in ctx.message.media])
    await present(ctx, draft, lead=lead)
