"""How the programmes show things in chat: points, a shop's name, a wish's card.

Shared by the commands (replies) and the actions (notifications), so a wish reads the same
in the reply to its claimant and in the message to its secretary.
"""

from __future__ import annotations

from decimal import Decimal

from handlers.core.places import village_core
from storage.db import Session
from storage.models import OrgUnit
from storage.models.wishes import Wish
from storage.people.network import get_unit
from storage.programmes.points import CENT

WISH_STATUS_ZH = {
    "submitted": "待发布",
    "published": "待认领",
    "claimed": "已认领",
    "fulfilled": "待确认",
    "confirmed": "已实现",
}


def points_text(value: Decimal | int) -> str:
    """Points without trailing zeros or exponent ("12", "1.5")."""
    return format(Decimal(value).quantize(CENT).normalize(), "f")


def shop_name(unit: OrgUnit) -> str:
    """How villagers name a station's love supermarket: 蓬莱社区爱心超市."""
    return f"{village_core(unit.name)}爱心超市"


def wish_ref(wish_id: int) -> str:
    """How a wish number is written: 心愿 #3."""
    return f"心愿 #{wish_id}"


def wish_status(status: str) -> str:
    """A wish's status as people read it (待认领, 已实现…)."""
    return WISH_STATUS_ZH.get(status, status)


async def wish_card(session: Session, wish: Wish) -> str:
    """A wish as people read it: number, status, village, household, what they wish for."""
    unit = await get_unit(session, wish.org_unit_id)
    where = village_core(unit.name) if unit else "?"
    return f"{wish_ref(wish.id)}【{wish_status(wish.status)}】{where} {wish.household}：{wish.description}"
