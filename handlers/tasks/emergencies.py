"""Emergencies at intake: the safety line first, the task at once, and a correction or a cancel after.

docs/tasks.md: a fall, a fire, bleeding, gas… is answered before any question with the number
to call (120 / 119 / 110, by kind) and the station's duty phone when the roster has one.
There is no draft to confirm — confirming after, not before: the task is created, urgent,
offered to the nearest teams, and every admin from the station up is told at once. For the
next half hour the villager's "取消" (or "说错了") calls it off, and anything else they say that
is not a command is added to the task for whoever is on the way.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.texts import CANCEL_WORDS, CONFIRM_WORDS, ref
from handlers.language.emergency import Emergency
from handlers.language.request_parser import parse_request
from handlers.tasks import actions
from handlers.tasks.ordering import Order, confirm_order
from handlers.tasks.outcomes import Amended, Cancelled, NotCancellable, Ordered
from handlers.tasks.ownership import chain_of
from handlers.tasks.texts import emergency_reply, safety_line
from storage.db import load
from storage.models import OrgUnit, Person, Task
from storage.people.network import ancestors, get_unit

FOLLOW_UP = timedelta(minutes=30)
# What a villager says to call off an alarm they raised by mistake, besides the usual 取消/2.
CALL_OFF = CANCEL_WORDS | {"说错了", "搞错了", "弄错了", "没事了", "不用了", "不需要了", "误报", "取消求助"}


async def duty_phone(ctx: Context, unit: OrgUnit | None) -> tuple[str, str] | None:
    """The nearest duty phone from the village up (unit name, phone), if the roster has one."""
    if unit is None:
        return None
    for place in await ancestors(ctx.session, unit):
        # org_units.duty_phone comes with the roster import (migration 0005); read defensively.
        phone = getattr(place, "duty_phone", None)
        if phone:
            return place.name, phone
    return None


async def say_safety_line(ctx: Context, emergency: Emergency, unit: OrgUnit | None) -> None:
    """Reply with the safety line (and the nearest duty phone): the first thing an emergency hears."""
    ctx.reply(safety_line(list(emergency.kinds), await duty_phone(ctx, unit)))


async def raise_alarm(ctx: Context, text: str, emergency: Emergency, *, resident_id: int,
                      new_resident: tuple[str, int] | None = None, written: str | None = None) -> None:
    """Answer an emergency: safety line, the task created and offered at once, then how to correct it."""
    resident = await load(ctx.session, Person, resident_id)
    unit_id = new_resident[1] if new_resident else (resident.org_unit_id if resident else None)
    unit = await get_unit(ctx.session, unit_id) if unit_id else None
    await say_safety_line(ctx, emergency, unit)
    parsed = parse_request(text, ctx.now.astimezone(ctx.tz))
    order = Order(resident_id=resident_id, category=parsed.category, description=written or text,
                  phone=parsed.phone, place=parsed.place, urgent=True,
                  media=[{"kind": m.kind, "ref": m.ref} for m in ctx.message.media],
                  emergency=emergency.kinds, new_resident=new_resident)
    match await confirm_order(ctx.act, order):
        case Refused(reason):
            ctx.reply(reason)
        case Ordered(task, placed):
            told = (await chain_of(ctx.act, task)).told_from(0)
            ctx.reply(emergency_reply(task, placed.teams, told))
            await ctx.state.set(ctx.state_key, {"awaiting": "emergency_follow_up", "task_id": task.id}, FOLLOW_UP)


async def follow_up(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """After an emergency: 取消 (or 说错了) calls it off, 确认 is thanked; anything else goes on as usual.

    What is neither a command nor one of these words reaches the intake, which adds it to the
    task (`add_to_alarm`) instead of drafting a new request.
    """
    word = text.strip().lower()
    if word not in CALL_OFF and word not in CONFIRM_WORDS:
        return False
    task = await load(ctx.session, Task, int(state["task_id"]))
    if task is None:
        await ctx.state.clear(ctx.state_key)
        return False
    if word in CONFIRM_WORDS:
        ctx.reply(f"好的，正在为您找人（任务 {ref(task.id)}），有人接单我会马上告诉您。情况危急请直接拨打 120/119/110。")
        return True
    await ctx.state.clear(ctx.state_key)
    match await actions.cancel(ctx.act, task):
        case Refused(reason):
            ctx.reply(reason)
        case NotCancellable():
            ctx.reply(f"任务 {ref(task.id)} 已经完成，不能再取消了。")
        case Cancelled():
            ctx.reply(f"好的，紧急求助（任务 {ref(task.id)}）已取消，已告诉接到消息的人。没事就好！")
    return True


async def add_to_alarm(ctx: Context, text: str) -> bool:
    """Add what a villager says after an emergency to its task; False when no emergency is being followed."""
    state = await ctx.state.get(ctx.state_key)
    if not state or state.get("awaiting") != "emergency_follow_up" or not text.strip():
        return False
    task = await load(ctx.session, Task, int(state["task_id"]))
    if task is None:
        return False
    match await actions.amend(ctx.act, task, text.strip()):
        case Amended():
            ctx.reply(f"已把您说的补充到任务 {ref(task.id)}，接单的人会看到。")
            return True
        case _:  # it is over (done or cancelled): the message is a new one
            await ctx.state.clear(ctx.state_key)
            return False
