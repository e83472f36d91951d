"""积分 · 上架 · 兑换 · 爱心超市 · 积分规则, through the fake channel, as volunteers and shopkeepers."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from storage.models import AuditEntry, Person, RoleGrant
from storage.models.points import Goods, PointsAccount, PointsEntry, Redemption


async def _shopkeeper(chat, name: str = "钱店长", unit: str = "PL") -> None:
    async with chat.sessions() as s:
        p = Person(name=name, phone="13900000077", org_unit_id=chat.ids[unit], created_at=chat.clock.now())
        s.add(p)
        await s.flush()
        s.add(RoleGrant(person_id=p.id, role="shopkeeper", org_unit_id=chat.ids[unit]))
        await s.commit()
        chat.ids[name] = p.id


async def _earn(chat, volunteer: str = "赵志愿", hours: str = "2小时") -> None:
    """A whole task loop: 王大娘 orders, the volunteer does it, 王大娘 rates it."""
    await chat.send("王大娘", "奶奶八十多了，想请人来帮忙理个发")
    await chat.send("王大娘", "确认")
    async with chat.sessions() as s:
        from storage.models import Task

        task_id = (await s.execute(select(func.max(Task.id)))).scalar_one()
    await chat.send(volunteer, f"接单 #{task_id}")
    await chat.send(volunteer, f"完成 #{task_id} {hours}")
    await chat.send("王大娘", f"评价 #{task_id} 5")


async def _code(chat, name: str) -> str:
    out = await chat.send(name, "积分")
    m = re.search(r"兑换码：([A-Z0-9]{6})", chat.last_to(name, out))
    assert m, chat.last_to(name, out)
    return m.group(1)


async def test_a_rated_task_earns_points_shown_in_points_and_me(chat) -> None:
    out = await chat.send("赵志愿", "积分")
    assert "您的积分：0" in chat.last_to("赵志愿", out) and "还没有积分记录" in chat.last_to("赵志愿", out)
    await _earn(chat)
    out = await chat.send("赵志愿", "/points")
    text = chat.last_to("赵志愿", out)
    assert "您的积分：2" in text and "+2 任务 #1 服务 2 小时" in text
    assert "每服务 1 小时得 1 积分" in text
    out = await chat.send("赵志愿", "我的")
    assert re.search(r"积分：2（兑换码 [A-Z0-9]{6}", chat.last_to("赵志愿", out))
    out = await chat.send("王大娘", "我的")  # a resident with no points gets no points line
    assert "积分" not in chat.last_to("王大娘", out)


async def test_points_follow_the_regions_rule(chat) -> None:
    out = await chat.send("城关所长", "积分规则 3")
    assert "每服务 1 小时得 3 积分" in chat.last_to("城关所长", out)
    out = await chat.send("赵志愿", "积分规则")
    assert "3 积分（城关街道新时代文明实践所的规定）" in chat.last_to("赵志愿", out)
    out = await chat.send("赵志愿", "积分规则 100")
    assert "只有管理员" in chat.last_to("赵志愿", out)
    out = await chat.send("城关所长", "积分规则 很多")
    assert "请这样发" in chat.last_to("城关所长", out)
    await _earn(chat, hours="1.5小时")
    out = await chat.send("赵志愿", "积分")
    assert "您的积分：4.5" in chat.last_to("赵志愿", out)


async def test_shopkeeper_stocks_and_redeems_the_volunteer_is_told(chat) -> None:
    await _shopkeeper(chat)
    await _earn(chat, hours="3小时")
    out = await chat.send("钱店长", "上架 毛巾 2 1")
    assert "已上架：毛巾 2 积分，现有库存 1（蓬莱社区爱心超市）" in chat.last_to("钱店长", out)
    out = await chat.send("钱店长", "上架 洗衣粉 10 5")
    code = await _code(chat, "赵志愿")

    out = await chat.send("钱店长", f"兑换 {code.lower()} 毛巾")
    assert "兑换成功：赵志愿 兑换 毛巾×1，扣 2 积分，余 1" in chat.last_to("钱店长", out)
    assert "您在蓬莱社区爱心超市兑换了 毛巾×1" in chat.last_to("赵志愿", out)
    out = await chat.send("钱店长", f"兑换 {code} 毛巾")
    assert "库存不够（现有 0）" in chat.last_to("钱店长", out)
    out = await chat.send("钱店长", f"兑换 {code} 洗衣粉")
    assert "积分不够：洗衣粉×1 需要 10 积分，现有 1" in chat.last_to("钱店长", out)
    out = await chat.send("钱店长", f"兑换 {code} 香皂")
    assert "本店没有「香皂」" in chat.last_to("钱店长", out) and "洗衣粉" in chat.last_to("钱店长", out)
    out = await chat.send("钱店长", "兑换 ZZZZZZ 毛巾")
    assert "没有找到兑换码「ZZZZZZ」" in chat.last_to("钱店长", out)

    out = await chat.send("赵志愿", "积分")
    text = chat.last_to("赵志愿", out)
    assert "您的积分：1" in text and "-2 兑换 毛巾×1（蓬莱社区）" in text
    async with chat.sessions() as s:
        assert (await s.execute(select(func.count(Redemption.id)))).scalar_one() == 1
        assert (await s.execute(select(Goods.stock).where(Goods.name == "毛巾"))).scalar_one() == 0
        ledger = (await s.execute(select(func.sum(PointsEntry.delta)))).scalar_one()
        assert ledger == (await s.execute(select(PointsAccount.balance))).scalar_one() == 1
        outcomes = (await s.execute(select(AuditEntry.outcome).where(AuditEntry.action == "redeem")
                                    .order_by(AuditEntry.id))).scalars().all()
        assert outcomes == ["ok", "out_of_stock", "insufficient"]


async def test_quantities_and_restocking(chat) -> None:
    await _shopkeeper(chat)
    await _earn(chat, hours="5小时")
    await chat.send("钱店长", "上架 毛巾 1 2")
    out = await chat.send("钱店长", "上架 毛巾 1 3")
    assert "现有库存 5" in chat.last_to("钱店长", out)
    code = await _code(chat, "赵志愿")
    out = await chat.send("钱店长", f"兑换 {code} 毛巾×3")
    assert "毛巾×3，扣 3 积分，余 2" in chat.last_to("钱店长", out)
    out = await chat.send("钱店长", f"兑换 {code} 毛巾 0")
    assert "数量要在 1 到 99 之间" in chat.last_to("钱店长", out)
    out = await chat.send("钱店长", "上架 毛巾 一些")
    assert "请这样发：上架 商品名 积分 库存" in chat.last_to("钱店长", out)


async def test_a_volunteer_asking_to_redeem_is_told_to_show_the_code(chat) -> None:
    await _shopkeeper(chat)
    await chat.send("钱店长", "上架 毛巾 2 1")
    code = await _code(chat, "钱志愿")
    out = await chat.send("钱志愿", "兑换 毛巾")
    text = chat.last_to("钱志愿", out)
    assert "「毛巾」需要 2 积分（蓬莱社区爱心超市，库存 1）" in text and code in text and "告诉店长" in text
    out = await chat.send("钱志愿", "兑换 金条")
    assert "附近的爱心超市没有「金条」" in chat.last_to("钱志愿", out)
    out = await chat.send("钱志愿", "爱心超市")
    assert "蓬莱社区爱心超市" in chat.last_to("钱志愿", out) and "毛巾 2 积分（库存 1）" in chat.last_to("钱志愿", out)
    async with chat.sessions() as s:
        assert (await s.execute(select(func.count(Redemption.id)))).scalar_one() == 0


async def test_only_shopkeepers_stock_or_redeem_with_a_code(chat) -> None:
    await _shopkeeper(chat)
    await chat.send("钱店长", "上架 毛巾 2 1")
    await _earn(chat)
    code = await _code(chat, "赵志愿")
    out = await chat.send("钱志愿", f"兑换 {code} 毛巾")
    assert "只有爱心超市的店长可以用兑换码兑换" in chat.last_to("钱志愿", out)
    out = await chat.send("钱志愿", "上架 金条 1 100")
    assert "只有爱心超市的店长可以上架商品" in chat.last_to("钱志愿", out)
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry.action).where(AuditEntry.outcome == "refused"))).scalars().all()
        assert refused == ["redeem", "stock_goods"]
        assert (await s.execute(select(func.count(Redemption.id)))).scalar_one() == 0


async def test_a_shopkeeper_redeems_only_from_their_own_shop(chat) -> None:
    await _shopkeeper(chat)
    await _shopkeeper_at_taiji(chat)
    await chat.send("台吉店长", "上架 毛巾 1 5")
    await _earn(chat)
    code = await _code(chat, "赵志愿")
    out = await chat.send("钱店长", f"兑换 {code} 毛巾")
    assert "本店没有「毛巾」" in chat.last_to("钱店长", out)
    out = await chat.send("台吉店长", f"兑换 {code} 毛巾")
    assert "兑换成功" in chat.last_to("台吉店长", out)


async def _shopkeeper_at_taiji(chat) -> None:
    async with chat.sessions() as s:
        p = Person(name="台吉店长", phone="13900000078", org_unit_id=chat.ids["TJC"], created_at=chat.clock.now())
        s.add(p)
        await s.flush()
        s.add(RoleGrant(person_id=p.id, role="shopkeeper", org_unit_id=chat.ids["TJC"]))
        await s.commit()
        chat.ids["台吉店长"] = p.id


async def test_points_are_not_shown_in_a_group(chat) -> None:
    from handlers.core.messages import InboundMessage

    pid = await chat.person_id("赵志愿")
    msg = InboundMessage(platform="test", user_id=f"u{pid}", chat_id="g1", text="积分", message_id="g-1",
                         chat_type="group", user_name="赵志愿")
    sent = await chat.engine.handle(msg)
    assert [m.text for m in sent] == ["积分和兑换码请私聊我查看。"]
