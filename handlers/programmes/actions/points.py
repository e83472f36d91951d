"""Points actions: a shopkeeper stocks the shelf (上架) and redeems for a volunteer's code (兑换);
an admin sets the points earned per verified hour in their area (积分规则).

Points are never spent without a shopkeeper: `redeem` is theirs alone, and only at the shops
they keep. Stock and balance change together or not at all (`storage.programmes.points`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from handlers.core.act import Act, Refused, Unreadable, domain_action
from handlers.core.rights import actor_of, granted_units
from handlers.language.textnorm import parse_number
from handlers.programmes.cards import points_text, shop_name
from storage.db import load
from storage.models import OrgUnit, Person
from storage.models.points import Goods
from storage.people.network import get_unit
from storage.programmes import points as ledger
from storage.programmes.points import CENT, RedeemOutcome, RedeemResult

MAX_QUANTITY = 99
MAX_PRICE = 100_000
MAX_STOCK = 100_000
MAX_RATE = 1000
_QUANTITY = re.compile(r"^(.+?)\s*[x×*]?\s*([0-9一二两三四五六七八九十]+)\s*(?:个|件|袋|瓶|包|桶|块|条|盒|份|双|支)?$")


@dataclass(frozen=True)
class Stocked:
    """Goods on the shelf of `shop`, with their price and stock after this 上架."""

    goods: Goods
    shop: OrgUnit


@dataclass(frozen=True)
class UnknownCode:
    """No volunteer has this redemption code."""

    code: str


@dataclass(frozen=True)
class BadQuantity:
    """The quantity is not a whole number from 1 to MAX_QUANTITY; `code` is the volunteer's."""

    code: str


@dataclass(frozen=True)
class NoSuchGoods:
    """The shops hold no goods, or several, by that name: what matched, and the whole shelf."""

    name: str
    found: list[Goods]
    shelf: list[Goods]


@dataclass(frozen=True)
class Exchange:
    """A redemption tried for `who`: done, or refused for stock or balance (`outcome.result`)."""

    who: str
    goods: Goods
    quantity: int
    outcome: RedeemOutcome


@dataclass(frozen=True)
class RuleSet:
    """`unit` and its subtree now earn `rate` points per verified hour."""

    unit: OrgUnit
    rate: Decimal


def whole_number(token: str) -> int | None:
    """A whole number written in digits or Chinese ("20", "二十"); None otherwise."""
    value = parse_number(token)
    if value is None or value != int(value):
        return None
    return int(value)


def split_quantity(text: str, names: set[str]) -> tuple[str, int] | None:
    """Goods name and quantity from "洗衣粉 2", "洗衣粉×2", "洗衣粉2袋" or just "洗衣粉"; None if the quantity is off."""
    text = text.strip()
    if not text:
        return None
    if text in names:  # a name that ends in a digit is a name, not a quantity
        return text, 1
    m = _QUANTITY.match(text)
    if m and m.group(1).strip():
        qty = whole_number(m.group(2))
        return (m.group(1).strip(), qty) if qty is not None and 1 <= qty <= MAX_QUANTITY else None
    return text, 1


async def shops_kept(act: Act) -> list[OrgUnit]:
    """The love supermarkets the actor keeps (shopkeeper grants), in grant order."""
    return await granted_units(act, "shopkeeper")


@domain_action("stock_goods")
async def stock_goods(act: Act, *, name: str, price: int | None, added: int | None) -> Stocked | Refused | Unreadable:
    """Put goods on the actor's shelf, or restock them at a new price (None: a number that could not be read)."""
    shops = await shops_kept(act)
    if not shops:
        return act.refuse("stock_goods", "只有爱心超市的店长可以上架商品。", goods=name or None)
    if (price is None or not 1 <= price <= MAX_PRICE or added is None or not 0 <= added <= MAX_STOCK
            or not name or len(name) > 100):
        return Unreadable()
    shop = shops[0]
    goods = await ledger.stock_goods(session=act.session, org_unit_id=shop.id, name=name, price=price, added=added,
                                     now=act.now)
    act.audit("stock_goods", "goods", goods.id, price=price, added=added, stock=goods.stock)
    return Stocked(goods, shop)


@domain_action("redeem")
async def redeem(act: Act, *, code: str, wanted: str) -> Exchange | Refused | UnknownCode | BadQuantity | NoSuchGoods:
    """Hand over goods ("洗衣粉 2") for the points of the volunteer with this code, at the actor's shop."""
    actor = actor_of(act)
    account = await ledger.account_by_code(session=act.session, code=code) if code else None
    shops = await shops_kept(act)
    if not shops:
        return act.refuse("redeem", "只有爱心超市的店长可以用兑换码兑换。请把您的兑换码告诉店长。",
                      "person" if account else None, account.person_id if account else None)
    if account is None:
        return UnknownCode(code)
    shelf = await ledger.shop_goods(session=act.session, unit_ids=[u.id for u in shops])
    parsed = split_quantity(wanted, {g.name for g in shelf})
    if parsed is None:
        return BadQuantity(account.code)
    name, quantity = parsed
    found = await ledger.shop_goods(session=act.session, unit_ids=[u.id for u in shops], name=name)
    if len(found) != 1:
        return NoSuchGoods(name, found, shelf)
    goods = found[0]
    volunteer: Person | None = await load(act.session, Person, account.person_id)
    outcome = await ledger.redeem(session=act.session, person_id=account.person_id, goods_id=goods.id,
                                  quantity=quantity, shopkeeper_id=actor.id, now=act.now)
    exchange = Exchange(volunteer.name if volunteer else account.code, goods, quantity, outcome)
    if outcome.result is not RedeemResult.done:
        act.audit("redeem", "goods", goods.id, outcome=outcome.result.value, person_id=account.person_id,
                  quantity=quantity)
        return exchange
    shop = await get_unit(act.session, goods.org_unit_id)
    assert outcome.redemption is not None and shop is not None
    act.audit("redeem", "redemption", outcome.redemption.id, person_id=account.person_id, goods_id=goods.id,
              quantity=quantity, points=outcome.cost)
    if volunteer is not None and volunteer.id != actor.id:
        await act.notify.person(volunteer, f"您在{shop_name(shop)}兑换了 {goods.name}×{quantity}，扣 {outcome.cost} 积分，"
                                           f"现有 {points_text(outcome.balance)} 积分。谢谢您的志愿服务！")
    return exchange


@domain_action("points_rule")
async def set_points_rule(act: Act, *, rate: float | None) -> RuleSet | Refused | Unreadable:
    """Set the points per verified hour for the actor's (first) admin scope (None: no number was read)."""
    actor = actor_of(act)
    scopes = await granted_units(act, "admin")
    if not scopes:
        home = await get_unit(act.session, actor.org_unit_id) if actor.org_unit_id is not None else None
        return act.refuse("points_rule", "只有管理员可以设置积分规则。", "org_unit" if home else None,
                      home.id if home else None)
    if rate is None or not 0 <= rate <= MAX_RATE:
        return Unreadable()
    unit = scopes[0]
    new = Decimal(str(rate)).quantize(CENT)
    await ledger.set_rule(session=act.session, org_unit_id=unit.id, points_per_hour=new, now=act.now)
    act.audit("points_rule", "org_unit", unit.id, points_per_hour=str(new))
    return RuleSet(unit, new)
