"""积分 · 爱心超市 · 上架 · 兑换 · 积分规则: points earned by service and spent at the village shop.

Volunteers see their balance, recent history and redemption code (兑换码) with `积分`, and
the shelf with `爱心超市`. Only a shopkeeper redeems: `兑换 <兑换码> <商品> [数量]` at their
own shop. A volunteer who sends `兑换 <商品>` is told the price, their balance and their code,
and asked to show the code at the counter — points are never spent without the shopkeeper.
"""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from handlers.core.context import Context
from handlers.core.permissions import admin_units
from handlers.core.places import village_core
from handlers.core.router import Router
from handlers.core.texts import hours_text, usage
from handlers.language.textnorm import parse_number
from storage.models import OrgUnit, Person
from storage.models.points import Goods
from storage.people.network import ancestors, in_subtree
from storage.programmes.points import (
    CENT,
    RedeemResult,
    account_by_code,
    balance,
    effective_rule,
    ensure_account,
    history,
    redeem,
    set_rule,
    shop_goods,
    stock_goods,
)

router = Router("points")

MAX_QUANTITY = 99
MAX_PRICE = 100_000
MAX_STOCK = 100_000
_QUANTITY = re.compile(r"^(.+?)\s*[x×*]?\s*([0-9一二两三四五六七八九十]+)\s*(?:个|件|袋|瓶|包|桶|块|条|盒|份|双|支)?$")
_SOURCE_ZH = {"task": "任务", "activity": "活动"}


def points_text(value: Decimal | int) -> str:
    """Points without trailing zeros or exponent ("12", "1.5")."""
    return format(Decimal(value).quantize(CENT).normalize(), "f")


def shop_name(unit: OrgUnit) -> str:
    """How villagers name a station's love supermarket: 蓬莱社区爱心超市."""
    return f"{village_core(unit.name)}爱心超市"


async def shop_units(ctx: Context) -> list[OrgUnit]:
    """The shops this person keeps (shopkeeper grants), in grant order."""
    units = []
    for grant in ctx.roles:
        if grant.role == "shopkeeper" and grant.org_unit_id is not None:
            unit = await ctx.session.get(OrgUnit, grant.org_unit_id)
            if unit is not None:
                units.append(unit)
    return units


async def nearby_shops(ctx: Context) -> list[OrgUnit]:
    """The love supermarket(s) nearest the person's home: up the tree first, then below it."""
    home = await ctx.home_unit()
    if home is None:
        return []
    for unit in await ancestors(ctx.session, home):
        if await shop_goods(session=ctx.session, unit_ids=[unit.id]):
            return [unit]
    below = (await ctx.session.execute(
        select(OrgUnit).join(Goods, Goods.org_unit_id == OrgUnit.id)
        .where(in_subtree(OrgUnit.path, home.path), Goods.active.is_(True)).distinct().order_by(OrgUnit.id)
    )).scalars().all()
    return list(below)


def _shelf(unit: OrgUnit, goods: list[Goods]) -> str:
    items = "\n".join(f"  · {g.name} {g.price} 积分（库存 {g.stock}）" for g in goods) or "  （还没有上架商品）"
    return f"{shop_name(unit)}：\n{items}"


async def points_line(ctx: Context) -> str | None:
    """The one line `我的` shows about points: balance and redemption code."""
    if not ctx.person.is_volunteer:
        if not await balance(session=ctx.session, person_id=ctx.person.id):
            return None
    account = await ensure_account(session=ctx.session, person_id=ctx.person.id, now=ctx.now)
    if ctx.in_group:
        return f"积分：{points_text(account.balance)}"
    return f"积分：{points_text(account.balance)}（兑换码 {account.code}，发「积分」看明细）"


@router.command("积分", "/points", args=False)
async def show_points(ctx: Context, args: str) -> None:
    """My points balance, recent history and redemption code."""
    if ctx.in_group:
        # The code identifies the volunteer at the counter: not for a whole group to read.
        ctx.reply("积分和兑换码请私聊我查看。")
        return
    account = await ensure_account(session=ctx.session, person_id=ctx.person.id, now=ctx.now)
    lines = [f"{ctx.person.name}，您的积分：{points_text(account.balance)}",
             f"兑换码：{account.code}（到爱心超市兑换时告诉店长）"]
    rate, _ = await effective_rule(session=ctx.session, unit_id=ctx.person.org_unit_id)
    recent = await history(session=ctx.session, person_id=ctx.person.id, limit=5)
    if recent:
        lines.append("最近明细：")
        for h in recent:
            loc = h.at.astimezone(ctx.tz)
            sign = "+" if h.delta > 0 else ""
            if h.source_type == "hours":
                what = f"{_SOURCE_ZH.get(h.what, h.what)} #{h.ref_id} 服务 {hours_text(h.amount)} 小时"
            elif h.source_type == "redemption":
                what = f"兑换 {h.what}×{h.amount}（{village_core(h.place or '')}）"
            else:
                what = h.what
            lines.append(f"  {loc.month}月{loc.day}日 {sign}{points_text(h.delta)} {what}")
    else:
        lines.append("还没有积分记录。")
    lines.append(f"每服务 1 小时得 {points_text(rate)} 积分（时长确认后自动记入）。发「爱心超市」看能兑换什么。")
    ctx.reply("\n".join(lines))


@router.command("爱心超市", "/shop", args=False)
async def show_shop(ctx: Context, args: str) -> None:
    """The goods on the shelf of my love supermarket (or the shops I keep)."""
    units = await shop_units(ctx) or await nearby_shops(ctx)
    if not units:
        ctx.reply("您所在的村/社区还没有爱心超市。")
        return
    parts = [_shelf(u, await shop_goods(session=ctx.session, unit_ids=[u.id])) for u in units[:3]]
    ctx.reply("\n".join(parts) + "\n兑换时请把兑换码（发「积分」查看）告诉店长。")


def _parse_int(token: str, low: int, high: int) -> int | None:
    value = parse_number(token)
    if value is None or value != int(value) or not low <= value <= high:
        return None
    return int(value)


@router.command("上架", "/stock")
async def stock(ctx: Context, args: str) -> None:
    """Put goods on my shop's shelf, or restock them: 上架 <商品> <积分> <库存>."""
    shops = await shop_units(ctx)
    if not shops:
        ctx.refuse("只有爱心超市的店长可以上架商品。", "stock_goods")
        return
    parts = args.split()
    price = _parse_int(parts[-2], 1, MAX_PRICE) if len(parts) >= 3 else None
    added = _parse_int(parts[-1], 0, MAX_STOCK) if len(parts) >= 3 else None
    name = " ".join(parts[:-2])
    if price is None or added is None or not name or len(name) > 100:
        ctx.reply(usage("上架 商品名 积分 库存", "上架 洗衣粉 10 20") + "\n（已有的商品：按新积分计价，库存加上这次的数量）")
        return
    shop = shops[0]
    goods = await stock_goods(session=ctx.session, org_unit_id=shop.id, name=name, price=price, added=added,
                              now=ctx.now)
    ctx.audit("stock_goods", "goods", goods.id, price=price, added=added, stock=goods.stock)
    ctx.reply(f"已上架：{goods.name} {goods.price} 积分，现有库存 {goods.stock}（{shop_name(shop)}）。")


def _split_quantity(text: str, names: set[str]) -> tuple[str, int] | None:
    """Goods name and quantity from "洗衣粉 2", "洗衣粉×2", "洗衣粉2袋" or just "洗衣粉"."""
    text = text.strip()
    if not text:
        return None
    if text in names:
        return text, 1
    m = _QUANTITY.match(text)
    if m and m.group(1).strip():
        qty = _parse_int(m.group(2), 1, MAX_QUANTITY)
        return (m.group(1).strip(), qty) if qty is not None else None
    return text, 1


@router.command("兑换", "/redeem")
async def exchange(ctx: Context, args: str) -> None:
    """A shopkeeper redeems goods for a volunteer's code; a volunteer is told how to."""
    shops = await shop_units(ctx)
    first, _, rest = args.partition(" ")
    account = await account_by_code(session=ctx.session, code=first) if first and rest else None
    if not shops:
        if account is not None and account.person_id != ctx.person.id:
            ctx.refuse("只有爱心超市的店长可以用兑换码兑换。请把您的兑换码告诉店长。", "redeem")
            return
        await _explain(ctx, rest if account is not None else args)
        return
    if account is None:
        if first and rest:
            ctx.reply(f"没有找到兑换码「{first}」。请志愿者发「积分」查看自己的兑换码。")
        else:
            ctx.reply(usage("兑换 志愿者兑换码 商品 [数量]", "兑换 K7M2QX 洗衣粉 2"))
        return
    shelf = await shop_goods(session=ctx.session, unit_ids=[u.id for u in shops])
    parsed = _split_quantity(rest, {g.name for g in shelf})
    if parsed is None:
        ctx.reply(f"数量要在 1 到 {MAX_QUANTITY} 之间。" + usage("兑换 兑换码 商品 [数量]", f"兑换 {account.code} 洗衣粉 2"))
        return
    name, quantity = parsed
    found = await shop_goods(session=ctx.session, unit_ids=[u.id for u in shops], name=name)
    if len(found) != 1:
        names = "、".join(g.name for g in (found or shelf)[:8]) or "（还没有上架商品）"
        lead = f"有几样商品符合「{name}」" if found else f"本店没有「{name}」"
        ctx.reply(f"{lead}。现有：{names}。")
        return
    goods = found[0]
    volunteer = await ctx.session.get(Person, account.person_id)
    outcome = await redeem(session=ctx.session, person_id=account.person_id, goods_id=goods.id, quantity=quantity,
                           shopkeeper_id=ctx.person.id, now=ctx.now)
    who = volunteer.name if volunteer else account.code
    if outcome.result is RedeemResult.out_of_stock:
        ctx.reply(f"「{goods.name}」库存不够（现有 {outcome.stock}），没有兑换。")
        ctx.audit("redeem", "goods", goods.id, outcome="out_of_stock", person_id=account.person_id, quantity=quantity)
        return
    if outcome.result is RedeemResult.insufficient:
        ctx.reply(f"{who} 的积分不够：{goods.name}×{quantity} 需要 {outcome.cost} 积分，现有 {points_text(outcome.balance)}。没有兑换。")
        ctx.audit("redeem", "goods", goods.id, outcome="insufficient", person_id=account.person_id, quantity=quantity)
        return
    shop = await ctx.session.get(OrgUnit, goods.org_unit_id)
    assert outcome.redemption is not None and shop is not None
    ctx.audit("redeem", "redemption", outcome.redemption.id, person_id=account.person_id, goods_id=goods.id,
              quantity=quantity, points=outcome.cost)
    ctx.reply(f"兑换成功：{who} 兑换 {goods.name}×{quantity}，扣 {outcome.cost} 积分，余 {points_text(outcome.balance)}。"
              f"「{goods.name}」还剩 {outcome.stock}。")
    if volunteer is not None and volunteer.id != ctx.person.id:
        await ctx.notify(volunteer, f"您在{shop_name(shop)}兑换了 {goods.name}×{quantity}，扣 {outcome.cost} 积分，"
                                    f"现有 {points_text(outcome.balance)} 积分。谢谢您的志愿服务！")


async def _explain(ctx: Context, wanted: str) -> None:
    """Tell a volunteer what a good costs and to show their code at the counter."""
    if ctx.in_group:
        ctx.reply("兑换请私聊我，或直接到爱心超市找店长。")
        return
    account = await ensure_account(session=ctx.session, person_id=ctx.person.id, now=ctx.now)
    shops = await nearby_shops(ctx)
    tail = f"您现有 {points_text(account.balance)} 积分，兑换码 {account.code}。请到爱心超市把兑换码告诉店长，由店长为您兑换。"
    name = wanted.strip()
    found = await shop_goods(session=ctx.session, unit_ids=[u.id for u in shops], name=name) if shops and name else []
    if name and len(found) >= 1:
        g = found[0]
        shop = await ctx.session.get(OrgUnit, g.org_unit_id)
        where = shop_name(shop) if shop else "爱心超市"
        ctx.reply(f"「{g.name}」需要 {g.price} 积分（{where}，库存 {g.stock}）。{tail}")
        return
    shelf = [_shelf(u, await shop_goods(session=ctx.session, unit_ids=[u.id])) for u in shops[:2]]
    head = f"附近的爱心超市没有「{name}」。" if name else ""
    ctx.reply(head + ("\n".join(shelf) + "\n" if shelf else "") + tail)


@router.command("积分规则", "/pointsrule")
async def points_rule(ctx: Context, args: str) -> None:
    """Show, or as an admin set, the points per verified hour in my area: 积分规则 [每小时积分]."""
    scopes = await admin_units(ctx)
    unit = scopes[0] if scopes else await ctx.home_unit()
    rate, source = await effective_rule(session=ctx.session, unit_id=unit.id if unit else None)
    if not args:
        origin = await ctx.session.get(OrgUnit, source) if source is not None else None
        where = f"（{origin.name}的规定）" if origin is not None else "（默认）"
        ctx.reply(f"{unit.name if unit else '本地'}：每服务 1 小时得 {points_text(rate)} 积分{where}。")
        return
    if not scopes or unit is None:
        ctx.refuse("只有管理员可以设置积分规则。", "points_rule")
        return
    value = parse_number(args.removesuffix("积分").removesuffix("分"))
    if value is None or not 0 <= value <= 1000:
        ctx.reply(usage("积分规则 每小时积分(0-1000)", "积分规则 2"))
        return
    new = Decimal(str(value)).quantize(CENT)
    await set_rule(session=ctx.session, org_unit_id=unit.id, points_per_hour=new, now=ctx.now)
    ctx.audit("points_rule", "org_unit", unit.id, points_per_hour=str(new))
    ctx.reply(f"已设置：{unit.name}及下辖各地，每服务 1 小时得 {points_text(new)} 积分（下级单位另有规定的除外）。")
