"""点单: a villager's message read for what it is, and a request drafted, asked about where unsure, confirmed.

Not every message is an order (docs/tasks.md). The parser says what a message is: small talk
is answered in a line (`handlers.tasks.smalltalk`); a volunteer's words about a task they hold
are offered as that task's command (`handlers.tasks.task_words`); a time or a phone said alone
is added to the order just made, or kept for the request that follows; anything else is a
request, drafted in conversation state until the villager confirms it
(`handlers.tasks.confirming`), which asks the category when the guess is weak and a time that
was already over. Confirming hands the draft to the `confirm_order` action. An emergency
skips the draft: the safety line comes first and the task at once (`handlers.tasks.emergencies`).
A voice message without words asks for a call back (`handlers.tasks.voice`). 代点单 names a
resident by phone or name, or — for an elder with no phone who is not on the roster — by
village and name; someone who may order for nobody is refused before anything is looked up.
"""

from __future__ import annotations

from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.places import find_villages, village_core
from handlers.core.rights import granted_units, holds, may_order_for
from handlers.core.router import Router
from handlers.core.texts import as_typed, ref, usage
from handlers.language.emergency import detect_emergency
from handlers.language.request_parser import MAX_TEXT, ParsedRequest
from handlers.tasks import actions
from handlers.tasks.confirming import DRAFT_TTL, STATE, on_draft, present, read, save
from handlers.tasks.drafts import draft_from
from handlers.tasks.emergencies import (
    add_to_alarm,
    follow_up,
    raise_alarm,
    say_safety_line)
from handlers.tasks.outcomes import Amended
from handlers.tasks.smalltalk import answer_empty, answer_small_talk, is_small_talk
from handlers.tasks.task_words import answer_task_words
from handlers.tasks.texts import when_text
from handlers.tasks.voice import voice_request
from storage.models import OrgUnit, Person
from storage.people.identities import find_person
from storage.people.network import get_unit
from storage.people.people import resident_named_at
from storage.tasks.queries import recent_open_task_ordered_by

router = Router("orders")
router.on_state("emergency_follow_up")(follow_up)
router.on_state(STATE)(on_draft)

__all__ = ["DRAFT_TTL", "free_text", "order", "order_for", "router", "start_draft"]


def _written(ctx: Context, text: str) -> str:
    """The request as the villager typed it (punctuation kept), at most MAX_TEXT characters."""
    raw = ctx.message.text
    # Matching the typed text back is quadratic in its length: a text far over the bound is taken as read.
    typed = as_typed(raw, text) if len(raw) <= 2 * MAX_TEXT else text
    return typed[:MAX_TEXT]


async def start_draft(
    ctx: Context, text: str, *, resident: Person | None = None, written: str | None = None,
    new_resident: tuple[str, OrgUnit] | None = None, parsed: ParsedRequest | None = None) -> None:
    """Read a request and ask the person about it (`written`: the text as first typed).

    `new_resident` (name, village): an elder not on the roster, ordered for (代点单); their
    row is created when the order is confirmed. An emergency is not drafted: it goes out at once.
    """
    resident = resident or ctx.person
    emergency = detect_emergency(text)
    if new_resident is None and resident.org_unit_id is None:
        if emergency is not None:  # before any question: what to do right now
            await say_safety_line(ctx, emergency, None)
        state = {"awaiting": "register_first", "request": text[:MAX_TEXT], "written": written or _written(ctx, text)}
        await ctx.state.set(ctx.state_key, state, DRAFT_TTL)
        ctx.reply("您好！请先告诉我您住在哪个村或社区，发送：注册 村名\n例如：注册 杨家村\n注册后我会接着处理您刚才说的事。")
        return
    if emergency is not None:
        await raise_alarm(ctx, text, emergency, resident_id=0 if new_resident else resident.id,
                          new_resident=(new_resident[0], new_resident[1].id) if new_resident else None,
                          written=written or _written(ctx, text))
        return
    unit = new_resident[1] if new_resident else await get_unit(ctx.session, resident.org_unit_id)
    for_name = new_resident[0] if new_resident else (resident.name if resident.id != ctx.person.id else None)
    draft = draft_from(parsed or await read(ctx, text), resident_id=0 if new_resident else resident.id,
                       description=written or _written(ctx, text), unit_name=unit.name if unit else "",
                       media=[{"kind": m.kind, "ref": m.ref} for m in ctx.message.media], for_name=for_name,
                       new_resident=[new_resident[0], new_resident[1].id] if new_resident else None)
    await present(ctx, draft, lead=_lead(ctx, text))


def _lead(ctx: Context, text: str) -> str:
    """What to say before the draft: that a long text was cut, or what arrived without words."""
    if len(text) > MAX_TEXT:
        return (f"您的消息有 {len(text)} 个字，太长了，我只记下了前 {MAX_TEXT} 个字。"
                f"还有要说的，可以确认后再补充。")
    if not text.strip() and ctx.message.media:
        return "收到您发来的" + ("图片。" if all(m.kind == "photo" for m in ctx.message.media) else "文件。")
    return ""


@router.command("点单", "/order")
async def order(ctx: Context, args: str) -> None:
    """Order a service in one message: 点单 <what you need>."""
    if not args and not ctx.message.media:
        ctx.reply("请说说您需要什么帮助，例如：点单 我家草莓苗得了病，明天上午能来看看吗")
        return
    await start_draft(ctx, args)


@router.command("代点单", "/order_for")
async def order_for(ctx: Context, args: str) -> None:
    """Order on behalf of a resident (admins and first secretaries, within their scope).

    "代点单 王大娘 …" or "代点单 13900001111 …" for someone on the roster; "代点单 杨家村 周奶奶 …"
    for an elder known by village and name, who may have no phone at all.
    """
    if not (await holds(ctx.act, "admin") or await holds(ctx.act, "first_secretary")):
        # Refused before any lookup: the answer must not tell whether, or where, a phone is registered.
        ctx.refuse("只有村/社区的管理员或驻村第一书记可以代居民点单。", "order_for")
        return
    who, _, text = args.partition(" ")
    if not who or not text.strip():
        ctx.reply(usage("代点单 居民手机号或姓名 需求（没有手机的老人：代点单 村名 姓名 需求）",
                        "代点单 13900001111 王大娘家水管冻裂了"))
        return
    resident = await find_person(ctx.session, who)
    unit = await get_unit(ctx.session, resident.org_unit_id) if resident and resident.org_unit_id else None
    new_resident: tuple[str, OrgUnit] | None = None
    if resident is None or unit is None:
        villages, _ = await find_villages(ctx.session, who)
        name, _, need = text.strip().partition(" ")
        if len(villages) != 1 or not name or not need.strip():
            ctx.reply(await _not_found(ctx, who, text.strip()))
            return
        unit, text = villages[0], need
        resident = await resident_named_at(ctx.session, name, unit.id)
        if resident is None:
            new_resident = (name, unit)
    # Refused before drafting, so nobody describes a need only to be turned away; the action checks again.
    if not await may_order_for(ctx.act, unit):
        target = ("person", resident.id) if resident is not None else ("org_unit", unit.id)
        ctx.refuse(f"只有{unit.name}的管理员或驻村第一书记可以代这位居民点单。", "order_for", *target)
        return
    await start_draft(ctx, text.strip(), resident=resident, new_resident=new_resident)


async def _not_found(ctx: Context, who: str, rest: str) -> str:
    """What to do when nobody is called `who`: name the village, and an example from the orderer's own."""
    mine = await granted_units(ctx.act, "first_secretary") + await granted_units(ctx.act, "admin")
    village = next((village_core(u.name) for u in mine if u.level in ("station", "point")), "杨家村")
    need = rest if rest else "烟囱堵了"
    return (f"没有找到已登记的居民「{who}」。如果是没有手机、还没登记的老人，请写上村名和姓名，我会为她/他建档：\n"
            f"代点单 村名 姓名 需求\n例如：代点单 {village} {who} {need}")


@router.on_text
async def free_text(ctx: Context, text: str) -> None:
    """A private message that is no command: small talk, a volunteer's words, a correction, or a request."""
    if ctx.in_group:
        return  # group chatter is not an order
    media = ctx.message.media
    if not text.strip():
        if any(m.kind == "voice" for m in media):
            await voice_request(ctx)
        elif media:
            await start_draft(ctx, text)
        else:
            await answer_empty(ctx)
        return
    parsed = await read(ctx, text) if detect_emergency(text) is None else None
    if parsed is not None and is_small_talk(parsed, text) and await _not_a_request(ctx, text, parsed):
        return  # "谢谢" after an emergency is thanks, not news for the volunteers on their way
    if await add_to_alarm(ctx, text):
        return  # said right after an emergency: it belongs to that task
    if parsed is not None and await _not_a_request(ctx, text, parsed):
        return
    await start_draft(ctx, text, parsed=parsed)


async def _not_a_request(ctx: Context, text: str, parsed: ParsedRequest) -> bool:
    """Answer what is no request (small talk, a volunteer's words, a value alone); False for a request."""
    if parsed.kind == "small_talk":
        if not is_small_talk(parsed, text):
            return False
        if parsed.action == "no" and await _offer_cancel(ctx):
            return True
        await answer_small_talk(ctx, parsed.action)
        return True
    if parsed.kind == "task_update":
        return await answer_task_words(ctx, parsed)
    if parsed.kind == "correction":
        return await _value_alone(ctx, text, parsed)
    return False


async def _offer_cancel(ctx: Context) -> bool:
    """"俺想取消" / "不要了" just after ordering: offer to cancel that task (a button, nothing done on a guess)."""
    task = await recent_open_task_ordered_by(ctx.session, ctx.person.id, ctx.now - DRAFT_TTL)
    if task is None or task.accepted_count > 0:
        return False  # nothing to cancel, or a volunteer is on it: that is the station's to settle
    ctx.reply(f"是要取消您刚提交的任务 {ref(task.id)}（{task.category}）吗？要取消请点「取消任务」或发：取消 {ref(task.id)}\n"
              "不取消就不用管它，有进展我会告诉您。", [Button("取消任务", f"取消 {ref(task.id)}")])
    return True


async def _value_alone(ctx: Context, text: str, parsed: ParsedRequest) -> bool:
    """A time, phone or address said alone: added to the order just made, else kept for the need to follow."""
    task = await recent_open_task_ordered_by(ctx.session, ctx.person.id, ctx.now - DRAFT_TTL)
    if task is not None and isinstance(await actions.amend(ctx.act, task, text.strip()[:MAX_TEXT]), Amended):
        ctx.reply(f"已把您说的补充到任务 {ref(task.id)}：{text.strip()[:100]}\n接单的人会看到。")
        return True
    unit = await ctx.home_unit()
    if unit is None:
        return False  # not registered: asked for the village first, like any request
    draft = draft_from(parsed, resident_id=ctx.person.id, description="", unit_name=unit.name, media=[])
    draft.ask = "need"
    await save(ctx, draft)
    noted = [f"时间 {when_text(draft.window, draft.precision, ctx.now, ctx.tz)}"] if draft.when else []
    noted += [f"{label} {value}" for label, value in (("电话", draft.phone), ("地址", draft.address),
                                                     ("地点", draft.place)) if value]
    if draft.people > 1:
        noted.append(f"需要 {draft.people} 人")
    ctx.reply(f"好的，记下了{'：' + '，'.join(noted) if noted else ''}。请问需要什么帮助？")
    return True
