"""A short conversation per programmes action (points, wishes, pairings) that makes it succeed.

`tests/handlers/test_actions.py` runs each and requires the action's audit row; the feature
tests import the cast helpers too.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from storage.models import Person, RoleGrant
from storage.programmes.pairings import add_pairing
from storage.tasks.hours import credit_hours

if TYPE_CHECKING:  # the harness lives in conftest, which pytest imports itself
    from tests.conftest import ChatHarness


async def grant(chat: ChatHarness, name: str, role: str, unit: str) -> None:
    """A new person holding `role` at the unit with this code."""
    async with chat.sessions() as s:
        p = Person(name=name, org_unit_id=chat.ids[unit], created_at=chat.clock.now())
        s.add(p)
        await s.flush()
        s.add(RoleGrant(person_id=p.id, role=role, org_unit_id=chat.ids[unit]))
        await s.commit()
        chat.ids[name] = p.id


async def earn(chat: ChatHarness, volunteer: str, hours: str, source_id: int = 1) -> None:
    """Credit verified hours (and so points) to a volunteer, as a verified activity would."""
    async with chat.sessions() as s:
        await credit_hours(session=s, volunteer_id=chat.ids[volunteer], hours=Decimal(hours), source_type="activity",
                           source_id=source_id, now=chat.clock.now())
        await s.commit()


async def code_of(chat: ChatHarness, name: str) -> str:
    """The volunteer's redemption code, as `积分` shows it."""
    out = await chat.send(name, "积分")
    found = re.search(r"兑换码：([A-Z0-9]{6})", chat.last_to(name, out))
    assert found, chat.last_to(name, out)
    return found.group(1)


async def stock_goods(chat: ChatHarness) -> None:
    await grant(chat, "钱店长", "shopkeeper", "PL")
    out = await chat.send("钱店长", "上架 毛巾 2 5")
    assert "已上架：毛巾 2 积分" in chat.last_to("钱店长", out)


async def redeem(chat: ChatHarness) -> None:
    await stock_goods(chat)
    await earn(chat, "赵志愿", "3")
    code = await code_of(chat, "赵志愿")
    out = await chat.send("钱店长", f"兑换 {code} 毛巾")
    assert "兑换成功" in chat.last_to("钱店长", out)


async def points_rule(chat: ChatHarness) -> None:
    out = await chat.send("城关所长", "积分规则 3")
    assert "每服务 1 小时得 3 积分" in chat.last_to("城关所长", out)


async def wish_submit(chat: ChatHarness) -> None:
    await grant(chat, "台吉书记", "first_secretary", "TJC")
    await grant(chat, "联合会", "federation_admin", "BP")
    out = await chat.send("台吉书记", "心愿 李大爷 想要一台收音机 约80元")
    assert "已登记心愿 #1" in chat.last_to("台吉书记", out)


async def wish_publish(chat: ChatHarness) -> None:
    await wish_submit(chat)
    out = await chat.send("联合会", "发布心愿 #1")
    assert "已发布心愿 #1" in chat.last_to("联合会", out)


async def wish_claim(chat: ChatHarness) -> None:
    await wish_publish(chat)
    out = await chat.send("周台吉", "认领 #1")
    assert "认领成功" in chat.last_to("周台吉", out)


async def wish_fulfil(chat: ChatHarness) -> None:
    await wish_claim(chat)
    out = await chat.send("周台吉", "实现 #1 照片:收音机已送到")
    assert "已报告实现" in chat.last_to("周台吉", out)


async def wish_confirm(chat: ChatHarness) -> None:
    await wish_fulfil(chat)
    out = await chat.send("台吉书记", "确认心愿 #1")
    assert "已确认心愿 #1" in chat.last_to("台吉书记", out)


async def visit(chat: ChatHarness) -> None:
    async with chat.sessions() as s:
        await add_pairing(session=s, volunteer_id=chat.ids["赵志愿"], org_unit_id=chat.ids["PL"],
                          household_name="王大娘", household_phone=None, now=chat.clock.now())
        await s.commit()
    out = await chat.send("赵志愿", "走访 王大娘 解决了取暖问题")
    assert "已记录走访 王大娘" in chat.last_to("赵志愿", out)


SCENARIOS: dict[str, Callable[[ChatHarness], Awaitable[None]]] = {
    "stock_goods": stock_goods,
    "redeem": redeem,
    "points_rule": points_rule,
    "wish_submit": wish_submit,
    "wish_publish": wish_publish,
    "wish_claim": wish_claim,
    "wish_fulfil": wish_fulfil,
    "wish_confirm": wish_confirm,
    "visit": visit,
}
