"""点单: a villager's free-text need → a parsed draft → confirmation → a task, dispatched.

The draft lives in conversation state until the villager confirms (button, "1" or "确认"),
so nothing is created from a message they did not mean as an order. Confirming hands the
draft to the `confirm_order` action, which creates, dispatches and tells whoever is concerned.
An emergency skips the draft: the safety line comes first and the task at once
(`handlers.tasks.emergencies`). 代点单 names a resident by phone or name, or — for an elder
with no phone who is not on the roster — by village and name.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.places import find_villages, village_core
from handlers.core.rights import granted_units, may_order_for
from handlers.core.router import Router
from handlers.core.texts import CANCEL_WORDS, CONFIRM_WORDS, as_typed, ref, usage
from handlers.language.emergency import detect_emergency
from handlers.language.request_parser import parse_request
from handlers.tasks.emergencies import (
    add_to_alarm,
    follow_up,
    raise_alarm,
    say_safety_line,
)
from handlers.tasks.ordering import Order, confirm_order
from handlers.tasks.outcomes import Ordered
from handlers.tasks.texts import where_it_went
from storage.models import OrgUnit, Person
from storage.people.identities import find_person
from storage.people.network import get_unit
from storage.people.people import resident_named_at

router = Router("orders")
router.on_state("emergency_follow_up")(follow_up)

DRAFT_TTL = timedelta(hours=2)
CONFIRM_BUTTONS = [Button("确认", "确认"), Button("取消", "取消")]


def _draft_from_text(ctx: Context, text: str, written: str | None) -> dict[str, Any]:
    parsed = parse_request(text, ctx.now.astimezone(ctx.tz))
    return {
        "category": parsed.category,
        "description": written or as_typed(ctx.message.text, text),
        "when": [parsed.when[0].isoformat(), parsed.when[1].isoformat()] if parsed.when else None,
        "phone": parsed.phone,
        "place": parsed.place,
        "urgent": parsed.urgent,
        "media": [{"kind": m.kind, "ref": m.ref} for m in ctx.message.media],
    }


def _draft_text(ctx: Context, draft: dict[str, Any], unit_name: str, for_name: str | None, *, new: bool = False
                ) -> str:
    when = "尽快 / 待商定"
    if draft.get("when"):
        start = datetime.fromisoformat(draft["when"][0]).astimezone(ctx.tz)
        part = "上午" if start.hour < 12 else ("下午" if start.hour < 18 else "晚上")
        when = f"{start.month}月{start.day}日{part}"
    lines = ["请确认您的需求：" if for_name is None else f"请确认为「{for_name}」代点的需求："]
    lines += [
        f"类别：{draft['category']}",
        f"村/社区：{unit_name}",
        f"时间：{when}",
        f"内容：{draft['description'] or '（语音/图片）'}",
    ]
    if draft.get("place"):
        lines.append(f"地点：{draft['place']}")
    if draft.get("phone"):
        lines.append(f"电话：{draft['phone']}")
    if draft.get("urgent"):
        lines.append("紧急：是")
    if draft.get("media"):
        lines.append(f"附件：{len(draft['media'])} 个")
    if new:
        lines.append(f"（{for_name}还没有登记，确认后为她/他建档，联系人是您）")
    lines.append("没问题请点「确认」或回复 1；不对请点「取消」或回复 2，再重新描述。")
    return "\n".join(lines)


async def start_draft(
    ctx: Context, text: str, *, resident: Person | None = None, written: str | None = None,
    new_resident: tuple[str, OrgUnit] | None = None,
) -> None:
    """Parse a request and ask the person to confirm it (`written`: the text as first typed).

    `new_resident` (name, village): an elder not on the roster, ordered for (代点单); their
    row is created when the order is confirmed. An emergency is not drafted: it goes out at once.
    """
    resident = resident or ctx.person
    emergency = detect_emergency(text)
    if new_resident is None and resident.org_unit_id is None:
        if emergency is not None:  # before any question: what to do right now
            await say_safety_line(ctx, emergency, None)
        state = {"awaiting": "register_first", "request": text, "written": as_typed(ctx.message.text, text)}
        await ctx.state.set(ctx.state_key, state, DRAFT_TTL)
        ctx.reply("您好！请先告诉我您住在哪个村或社区，发送：注册 村名\n例如：注册 杨家村\n注册后我会接着处理您刚才说的事。")
        return
    if emergency is not None:
        await raise_alarm(ctx, text, emergency, resident_id=0 if new_resident else resident.id,
                          new_resident=(new_resident[0], new_resident[1].id) if new_resident else None,
                          written=written or as_typed(ctx.message.text, text))
        return
    unit = new_resident[1] if new_resident else await get_unit(ctx.session, resident.org_unit_id)
    draft = _draft_from_text(ctx, text, written)
    draft["resident_id"] = 0 if new_resident else resident.id
    if new_resident:
        draft["new_resident"] = [new_resident[0], new_resident[1].id]
    await ctx.state.set(ctx.state_key, {"awaiting": "order_confirm", "draft": draft}, DRAFT_TTL)
    for_name = new_resident[0] if new_resident else (resident.name if resident.id != ctx.person.id else None)
    ctx.reply(_draft_text(ctx, draft, unit.name if unit else "", for_name, new=new_resident is not None),
              CONFIRM_BUTTONS)


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
    """Anything that is not a command, in a private chat, is a request to be confirmed."""
    if ctx.in_group:
        return  # group chatter is not an order
    if not text and not ctx.message.media:
        return
    if await add_to_alarm(ctx, text):
        return  # said right after an emergency: it belongs to that task
    await start_draft(ctx, text)


@router.on_state("order_confirm")
async def confirm(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """Create the task on 确认/1, drop the draft on 取消/2; anything else is a new message."""
    word = text.strip().lower()
    draft = state["draft"]
    if not word and ctx.message.media:
        draft["media"] = draft.get("media", []) + [{"kind": m.kind, "ref": m.ref} for m in ctx.message.media]
        await ctx.state.set(ctx.state_key, state, DRAFT_TTL)
        ctx.reply(f"已附上（共 {len(draft['media'])} 个附件）。请点「确认」或回复 1 提交。", CONFIRM_BUTTONS)
        return True
    if word in CANCEL_WORDS:
        await ctx.state.clear(ctx.state_key)
        ctx.reply("好的，已取消。需要帮助时随时告诉我。")
        return True
    if word not in CONFIRM_WORDS:
        return False
    await ctx.state.clear(ctx.state_key)
    match await confirm_order(ctx.act, _order_from_draft(draft)):
        case Refused(reason):
            ctx.reply(reason)
        case Ordered(task, placed):
            ctx.reply(f"已提交！您的任务号是 {ref(task.id)}。"
                      f"{where_it_went(task, placed.unit, placed.teams, placed.admins)}\n查看进度请发：我的")
    return True


def _order_from_draft(draft: dict[str, Any]) -> Order:
    """The action's input from the draft kept in conversation state (JSON: times as ISO strings)."""
    when = None
    if draft.get("when"):
        when = (datetime.fromisoformat(draft["when"][0]), datetime.fromisoformat(draft["when"][1]))
    new_resident = draft.get("new_resident")
    return Order(resident_id=draft["resident_id"], category=draft["category"], description=draft["description"],
                 wanted=when, phone=draft.get("phone"), place=draft.get("place"), urgent=bool(draft.get("urgent")),
                 media=draft.get("media") or [],
                 new_resident=(str(new_resident[0]), int(new_resident[1])) if new_resident else None)
