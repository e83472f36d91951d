"""注册 is never a dead end (issue 14 point 3): an area names its villages; anything else, the nearest ones."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import OutboxMessage


async def _buttons(chat, name: str) -> list[str]:
    async with chat.sessions() as s:
        row = (await s.execute(select(OutboxMessage).where(OutboxMessage.person_id == chat.ids[name])
                               .order_by(OutboxMessage.id.desc()).limit(1))).scalar_one()
    return [b["label"] for b in row.buttons]


async def test_a_county_names_the_villages_under_it(chat) -> None:
    out = await chat.send("新来的", "注册 北票")
    assert "「北票市」下面有这些村/社区" in chat.last_to("新来的", out)
    assert sorted(await _buttons(chat, "新来的")) == sorted(
        ["蓬莱社区新时代文明实践站", "杨树村新时代文明实践站", "台吉村新时代文明实践站"])


async def test_a_town_names_its_own_villages(chat) -> None:
    out = await chat.send("新来的", "注册 城关街道")
    assert "「城关街道」下面有这些村/社区" in chat.last_to("新来的", out)
    assert sorted(await _buttons(chat, "新来的")) == ["杨树村新时代文明实践站", "蓬莱社区新时代文明实践站"]


async def test_a_name_like_none_still_offers_villages_to_choose_from(chat) -> None:
    out = await chat.send("新来的", "注册 火星基地")
    assert "没有找到叫「火星基地」的村/社区" in chat.last_to("新来的", out)
    assert len(await _buttons(chat, "新来的")) >= 3


async def test_a_button_registers(chat) -> None:
    await chat.send("新来的", "注册 北票")
    async with chat.sessions() as s:
        row = (await s.execute(select(OutboxMessage).where(OutboxMessage.person_id == chat.ids["新来的"])
                               .order_by(OutboxMessage.id.desc()).limit(1))).scalar_one()
    press = next(b["data"] for b in row.buttons if b["label"].startswith("台吉村"))
    out = await chat.send("新来的", press)
    assert "已登记您在「台吉村新时代文明实践站」" in chat.last_to("新来的", out)
