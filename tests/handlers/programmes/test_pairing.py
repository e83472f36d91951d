"""走访 and 结对: logging visits to paired households and this month's counts, through the fake channel."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.programmes.pairing import problems_solved
from storage.models.pairings import PairingVisit
from storage.programmes.pairings import add_pairing


@pytest.mark.parametrize(("text", "solved"), [
    ("解决了取暖问题", 1),
    ("解决了2个问题", 2),
    ("帮忙解决两个问题：取暖和买药", 2),
    ("解决了十个问题", 10),
    ("修水管 送药 2", 2),
    ("送了米面油 3个", 3),
    ("陪老人聊天", 0),
    ("取暖问题还没解决", 0),
    ("问题未解决，下周再去", 0),
    ("住在3楼，解决了吃药问题", 1),
])
def test_problems_solved_rule(text: str, solved: int) -> None:
    assert problems_solved(text) == solved


async def _pair(chat, volunteer: str, household: str, unit: str = "PL") -> None:
    async with chat.sessions() as s:
        await add_pairing(session=s, volunteer_id=chat.ids[volunteer], org_unit_id=chat.ids[unit],
                          household_name=household, household_phone=None, now=chat.clock.now())
        await s.commit()


async def test_visits_are_logged_and_counted_for_the_month(chat) -> None:
    await _pair(chat, "赵志愿", "王大娘")
    await _pair(chat, "赵志愿", "孙奶奶")
    out = await chat.send("赵志愿", "走访 王大娘 解决了取暖问题")
    assert "已记录走访 王大娘：解决了取暖问题（解决问题 1 个）" in chat.last_to("赵志愿", out)
    assert "11月已走访 1 次，解决问题 1 个" in chat.last_to("赵志愿", out)
    chat.clock.advance(days=1)
    out = await chat.send("赵志愿", "/visit 王大娘家 帮忙买药，解决了2个问题")
    assert "11月已走访 2 次，解决问题 3 个" in chat.last_to("赵志愿", out)
    out = await chat.send("赵志愿", "结对")
    text = chat.last_to("赵志愿", out)
    assert "王大娘（蓬莱社区）：走访 2 次，解决问题 3 个" in text
    assert "孙奶奶（蓬莱社区）：本月还没走访" in text
    chat.clock.advance(days=5)  # December in Beijing: a new month starts at zero
    out = await chat.send("赵志愿", "结对")
    assert "我结对的户（12月）" in chat.last_to("赵志愿", out)
    assert "王大娘（蓬莱社区）：本月还没走访" in chat.last_to("赵志愿", out)
    async with chat.sessions() as s:
        visits = (await s.execute(select(PairingVisit).order_by(PairingVisit.id))).scalars().all()
        assert [(v.note, v.problems_solved) for v in visits] == [("解决了取暖问题", 1), ("帮忙买药，解决了2个问题", 2)]  # as typed


async def test_admins_see_who_has_not_been_visited(chat) -> None:
    await _pair(chat, "赵志愿", "王大娘")
    await _pair(chat, "钱志愿", "孙奶奶")
    await _pair(chat, "周台吉", "李大爷", unit="TJC")
    await chat.send("赵志愿", "走访 王大娘 送药 2")
    out = await chat.send("蓬莱站长", "结对")
    text = chat.last_to("蓬莱站长", out)
    assert "蓬莱社区新时代文明实践站（11月）：结对 2 户，已走访 1 户，解决问题 2 个" in text
    assert "还没走访：孙奶奶（钱志愿）" in text and "李大爷" not in text


async def test_visits_only_to_my_own_households(chat) -> None:
    out = await chat.send("钱志愿", "走访 王大娘 聊天")
    assert "您还没有结对帮扶的户" in chat.last_to("钱志愿", out)
    await _pair(chat, "钱志愿", "孙奶奶")
    out = await chat.send("钱志愿", "走访 王大娘 聊天")
    assert "「王大娘」不是您结对的户。您结对的户：孙奶奶" in chat.last_to("钱志愿", out)
    out = await chat.send("钱志愿", "走访 孙奶奶")
    assert "请这样发：走访 户名 情况" in chat.last_to("钱志愿", out)
    out = await chat.send("王大娘", "结对")
    assert "您还没有结对帮扶的户" in chat.last_to("王大娘", out)
    async with chat.sessions() as s:
        assert (await s.execute(select(PairingVisit))).first() is None
