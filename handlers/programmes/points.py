"""积分 · 爱心超市 · 上架 · 兑换 · 积分规则: points earned by service and spent at the village shop.

Volunteers see their balance, recent history and redemption code (兑换码) with `积分`, and
the shelf with `爱心超市`. Only a shopkeeper redeems: `兑换 <兑换码> <商品> [数量]` at their
own shop. A volunteer who sends `兑换 <商品>` is told the price, their balance and their code,
and asked to show the code at the counter — points are never spent without the shopkeeper.
What changes points or the shelf happens in `handlers.programmes.actions.points`.
"""

from __future__ import annotations

from decimal import Decimal

from handlers.core.act import Refused, Unreadable
from handlers.core.context import Context
from handlers.core.places import village_core
from handlers.core.rights import admin_units
from handlers.core.router import Router
from handlers.core.texts import hours_text, usage
from handlers.language.textnorm import parse_number
from handlers.programmes.actions.points import (
    MAX_QUANTITY,
    BadQuantity,
    NoSuchGoods,
    UnknownCode,
    redeem,
    set_points_rule,
    shops_kept,
    stock_goods,
    whole_number,
)
from handlers.programmes.cards import points_text, shop_name
from storage.models import OrgUnit
from storage.models.points import Goods
from storage.people.network import ancestors, get_unit
from storage.programmes.points import (
    RedeemResult,
    account_by_code,
    balance,
    effective_rule,
    ensure_account,
    open_account,
    shop_goods,
    shops_below,
)
from storage.programmes.points_history import history

__all__ = ["points_line", "points_text", "router", "shop_name"]

router = Router("points")

_SOURCE_ZH = {"task": "任务", "activity": "活动", "activity_correction": "活动时长更正"}


async def nearby_shops(ctx: Context) -> list[OrgUnit]:
    """The love supermarket(s) nearest the person's home: up the tree first, then below it."""
    home = await ctx.home_unit()
    if home is None:
        return []
    for unit in await ancestors(ctx.session, home):
        if await shop_goods(session=ctx.session, unit_ids=[unit.id]):
            return [unit]
    return await shops_below(session=ctx.session, unit=home)


def _shelf(unit: OrgUnit, goods: list[Goods]) -> str:
    """A shop's shelf as a short list: name, price, stock."""
    items = "\n".join(f"  · {g.name} {g.price} 积分（库存 {g.stock}）" for g in goods) or "  （还没有上架商品）"
    return f"{shop_name(unit)}：\n{items}"


async def points_line(ctx: Context, *, read: tuple[Decimal, str] | None | bool = False) -> str | None:
    """The one line `我的` shows about points: balance and redemption code.

    `read` is the account's (balance, code) when the caller already read it with its own query
    (None: it has no account), so only a volunteer's first look opens one; False reads it here.
    """
    if read is False:
        if not ctx.person.is_volunteer and not await balance(session=ctx.session, person_id=ctx.person.id):
            return None
        read = None
    elif not ctx.person.is_volunteer and (read is None or not read[0]):
        return None  # as `balance` says: no account, or nothing on it
    if isinstance(read, tuple):
        amount, code = read
    elif read is None:  # the caller read that there is none: open it (a volunteer's first look)
        amount, code = await open_account(session=ctx.session, person_id=ctx.person.id, now=ctx.now)
    else:
        account = await ensure_account(session=ctx.session, person_id=ctx.person.id, now=ctx.now)
        amount, code = account.balance, account.code
    if ctx.in_group:
        return f"积分：{points_text(amount)}"
    return f"积分：{points_text(amount)}（兑换码 {code}，发「积分」看明细）"


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
    units = await shops_kept(ctx.act) or await nearby_shops(ctx)
    if not units:
        ctx.reply("您所在的村/社区还没有爱心超市。")
        return
    parts = [_shelf(u, await shop_goods(session=ctx.session, unit_ids=[u.id])) for u in units[:3]]
    ctx.reply("\n".join(parts) + "\n兑换时请把兑换码（发「积分」查看）告诉店长。")


@router.command("上架", "/stock")
async def stock(ctx: Context, args: str) -> None:
    """Put goods on my shop's shelf, or restock them: 上架 <商品> <积分> <库存>."""
    parts = args.split()
    readable = len(parts) >= 3
    outcome = await stock_goods(ctx.act, name=" ".join(parts[:-2]),
                                price=whole_number(parts[-2]) if readable else None,
                                added=whole_number(parts[-1]) if readable else None)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, Unreadable):
        ctx.reply(usage("上架 商品名 积分 库存", "上架 洗衣粉 10 20") + "\n（已有的商品：按新积分计价，库存加上这次的数量）")
    else:
        goods = outcome.goods
        ctx.reply(f"已上架：{goods.name} {goods.price} 积分，现有库存 {goods.stock}（{shop_name(outcome.shop)}）。")


@router.command("兑换", "/redeem")
async def exchange(ctx: Context, args: str) -> None:
    """A shopkeeper redeems goods for a volunteer's code; a volunteer is told how to."""
    first, _, rest = args.partition(" ")
    if not await shops_kept(ctx.act):
        account = await account_by_code(session=ctx.session, code=first) if first and rest else None
        if account is None or account.person_id == ctx.person.id:
            await _explain(ctx, rest if account is not None else args)
            return
    outcome = await redeem(ctx.act, code=first if rest else "", wanted=rest)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, UnknownCode):
        if first and rest:
            ctx.reply(f"没有找到兑换码「{first}」。请志愿者发「积分」查看自己的兑换码。")
        else:
            ctx.reply(usage("兑换 志愿者兑换码 商品 [数量]", "兑换 K7M2QX 洗衣粉 2"))
    elif isinstance(outcome, BadQuantity):
        ctx.reply(f"数量要在 1 到 {MAX_QUANTITY} 之间。" + usage("兑换 兑换码 商品 [数量]", f"兑换 {outcome.code} 洗衣粉 2"))
    elif isinstance(outcome, NoSuchGoods):
        names = "、".join(g.name for g in (outcome.found or outcome.shelf)[:8]) or "（还没有上架商品）"
        lead = f"有几样商品符合「{outcome.name}」" if outcome.found else f"本店没有「{outcome.name}」"
        ctx.reply(f"{lead}。现有：{names}。")
    else:
        goods, quantity, done = outcome.goods, outcome.quantity, outcome.outcome
        if done.result is RedeemResult.out_of_stock:
            ctx.reply(f"「{goods.name}」库存不够（现有 {done.stock}），没有兑换。")
        elif done.result is RedeemResult.insufficient:
            ctx.reply(f"{outcome.who} 的积分不够：{goods.name}×{quantity} 需要 {done.cost} 积分，"
                      f"现有 {points_text(done.balance)}。没有兑换。")
        else:
            ctx.reply(f"兑换成功：{outcome.who} 兑换 {goods.name}×{quantity}，扣 {done.cost} 积分，"
                      f"余 {points_text(done.balance)}。「{goods.name}」还剩 {done.stock}。")


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
        shop = await get_unit(ctx.session, g.org_unit_id)
        where = shop_name(shop) if shop else "爱心超市"
        ctx.reply(f"「{g.name}」需要 {g.price} 积分（{where}，库存 {g.stock}）。{tail}")
        return
    shelf = [_shelf(u, await shop_goods(session=ctx.session, unit_ids=[u.id])) for u in shops[:2]]
    head = f"附近的爱心超市没有「{name}」。" if name else ""
    ctx.reply(head + ("\n".join(shelf) + "\n" if shelf else "") + tail)


@router.command("积分规则", "/pointsrule")
async def points_rule(ctx: Context, args: str) -> None:
    """Show, or as an admin set, the points per verified hour in my area: 积分规则 [每小时积分]."""
    if args:
        outcome = await set_points_rule(ctx.act, rate=parse_number(args.removesuffix("积分").removesuffix("分")))
        if isinstance(outcome, Refused):
            ctx.reply(outcome.reason)
        elif isinstance(outcome, Unreadable):
            ctx.reply(usage("积分规则 每小时积分(0-1000)", "积分规则 2"))
        else:
            ctx.reply(f"已设置：{outcome.unit.name}及下辖各地，每服务 1 小时得 {points_text(outcome.rate)} 积分"
                      "（下级单位另有规定的除外）。")
        return
    scopes = await admin_units(ctx.act)
    unit = scopes[0] if scopes else await ctx.home_unit()
    rate, source = await effective_rule(session=ctx.session, unit_id=unit.id if unit else None)
    origin: OrgUnit | None = await get_unit(ctx.session, source) if source is not None else None
    where = f"（{origin.name}的规定）" if origin is not None else "（默认）"
    ctx.reply(f"{unit.name if unit else '本地'}：每服务 1 小时得 {points_text(rate)} 积分{where}。")
