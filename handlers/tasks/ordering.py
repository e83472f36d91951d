"""点单 and 代点单 as a domain action: a confirmed draft (or an emergency, at once) becomes a task, placed.

An admin or first secretary may order for a resident of their scope — also for an elder with
no phone and no chat account, named by village and name: the resident's row is created then,
without a phone, and the orderer is the task's contact and hears every update about it.
Whatever the order carries is cut to its column here (docs/roles.md: a request is at most
1,000 characters), whichever way it came — a draft, an emergency, a voice message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from handlers.core.act import Act, Refused, domain_action
from handlers.core.rights import may_order_for
from handlers.core.texts import ref
from handlers.tasks.outcomes import Ordered, Placed
from handlers.tasks.ownership import Placement
from handlers.tasks.routing import offer_to_team
from handlers.tasks.texts import where_it_went
from storage.db import load
from storage.models import OrgUnit, Person
from storage.people.network import get_unit
from storage.people.people import add_resident, has_chat_account, resident_named_at
from storage.tasks.transitions import create_task

MAX_TEXT = 1000  # a request's text (docs/roles.md)
PLACE_MAX = 200  # tasks.place
PHONE_MAX = 32  # tasks.phone
MAX_PEOPLE = 10  # volunteers one request may ask for


def clip(value: str | None, size: int) -> str | None:
    """`value` cut to `size` characters (None stays None; blank becomes None)."""
    if value is None:
        return None
    value = value.strip()[:size].strip()
    return value or None


@dataclass(frozen=True)
class Order:
    """A confirmed draft: what a resident needs, as parsed, with the description as they wrote it.

    `resident_id` 0 with `new_resident` (name, village id): an elder not on the roster yet,
    ordered for by someone who may (代点单); their row is created with the task.
    """

    resident_id: int
    category: str
    description: str
    wanted: tuple[datetime, datetime] | None = None
    phone: str | None = None
    place: str | None = None
    urgent: bool = False
    media: list[dict[str, str]] = field(default_factory=list)
    emergency: tuple[str, ...] = ()
    new_resident: tuple[str, int] | None = None
    volunteers_needed: int = 1


async def _resident(act: Act, order: Order) -> tuple[Person | None, OrgUnit | None]:
    """The person ordered for, and their village; a new resident's row is only looked up here."""
    if order.resident_id == 0 and order.new_resident is not None:
        name, unit_id = order.new_resident
        return await resident_named_at(act.session, name, unit_id), await get_unit(act.session, unit_id)
    resident = await load(act.session, Person, order.resident_id)
    if resident is None or resident.org_unit_id is None:
        return resident, None
    return resident, await get_unit(act.session, resident.org_unit_id)


@domain_action("order")
async def confirm_order(act: Act, order: Order) -> Ordered | Refused:
    """点单 (or 代点单): create the task and place it; tell a resident ordered for, and whoever has it now."""
    resident, unit = await _resident(act, order)
    if unit is None:
        target = resident.id if resident is not None else order.resident_id
        return act.refuse("order", "抱歉，找不到这位居民的村/社区，请重新点单。", "person", target)
    on_behalf = act.actor is not None and (resident is None or act.actor.id != resident.id)
    if on_behalf and not await may_order_for(act, unit):
        # Checked again at confirmation: the draft may have waited while a grant was withdrawn.
        target = resident.id if resident is not None else unit.id
        return act.refuse("order", f"只有{unit.name}的管理员或驻村第一书记可以代这位居民点单。",
                          "person" if resident is not None else "org_unit", target)
    created = resident is None
    if resident is None and order.new_resident is not None:
        resident = await add_resident(act.session, name=order.new_resident[0], unit_id=unit.id, now=act.now)
    assert resident is not None
    # Someone ordering for an elder without a phone is the one to call.
    phone = order.phone or resident.phone or (act.actor.phone if on_behalf and act.actor else None)
    task = await create_task(
        session=act.session, resident_id=resident.id, created_by_id=act.actor_id or resident.id,
        org_unit_id=unit.id, category=order.category, description=(order.description or "").strip()[:MAX_TEXT],
        now=act.now, wanted=order.wanted, phone=clip(phone, PHONE_MAX), place=clip(order.place, PLACE_MAX),
        urgent=order.urgent or bool(order.emergency), media=order.media, emergency=",".join(order.emergency) or None,
        volunteers_needed=min(max(order.volunteers_needed, 1), MAX_PEOPLE))
    act.audit("order", "task", task.id, category=task.category, on_behalf=on_behalf or None,
              new_resident=created or None, emergency=task.emergency,
              people=task.volunteers_needed if task.volunteers_needed > 1 else None)
    placed = await offer_to_team(act, task)
    placement = placed.placement if isinstance(placed, Placed) else Placement(unit, "station")
    reachable = resident.phone is not None or await has_chat_account(act.session, resident.id)
    if on_behalf and act.actor is not None and reachable:
        await act.notify.person(resident, f"{act.actor.name}为您代点了一项服务（任务 {ref(task.id)}）：{task.description}\n"
                                          f"{where_it_went(task, placement.unit, placement.teams, placement.admins)}")
    return Ordered(task, placement)
