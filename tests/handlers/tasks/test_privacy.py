"""Privacy on offer cards (issue 14 point 5): phones in any format and house numbers masked until accepted."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.core.texts import mask_private
from handlers.language.addresses import extract_address
from storage.models import OutboxMessage, TeamGroup


@pytest.mark.parametrize(("text", "masked"), [
    ("电话13900000901", "电话139****0901"),
    ("139-0000-0901 找我", "139****0901 找我"),
    ("139 0000 0901", "139****0901"),
    ("１３９００００09０１", "139****0901"),  # full-width digits, as phones' input methods type them
    ("+86 139 0000 0901", "139****0901"),
    ("座机0421-1234567", "座机0421-****67"),
    ("(0421)1234567", "0421-****67"),
    ("3号楼2单元501", "*号楼*单元*"),
    ("2单元501室", "*单元*室"),
    ("建设街12号3楼", "建设街*号*楼"),
    ("5号院", "*号院"),
    ("三号楼二单元", "*号楼*单元"),
    ("一楼东户", "*楼东户"),
    ("光明路18号 二组老刘家", "光明路*号 *组老刘家"),
])
def test_phones_and_house_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_private(text) == masked


@pytest.mark.parametrize("text", [
    "明天上午10点以后", "12月5号来", "需要2个人", "杨家村7组", "礼拜一下午三点", "2026-11-28 上午", "买两吨煤",
])
def test_times_counts_and_village_groups_are_left_alone(text: str) -> None:
    assert mask_private(text) == text


@pytest.mark.parametrize("text", [
    "俺家住3号楼2单元501 晚上八点以后家里有人", "幸福小区8号楼3层 王大爷家", "城关街道光明路18号的李奶奶", "住5号院东屋",
])
def test_the_house_number_the_draft_keeps_is_the_one_masked(text: str) -> None:
    """One reader of house numbers: what the draft shows as the address is exactly what an offer card hides."""
    address = extract_address(text)
    assert address and any(ch.isdigit() for ch in address)
    masked = mask_private(text)
    assert address not in masked and not any(ch.isdigit() for ch in masked.replace("八点", ""))


async def test_offer_and_group_cards_are_masked_and_the_accepted_volunteer_sees_everything(chat) -> None:
    async with chat.sessions() as s:
        s.add(TeamGroup(team_id=chat.ids["PLD"], platform="test", chat_id="g-pl", title="蓬莱群"))
        await s.commit()
    need = "奶奶八十多了想请人来理个发 在3号楼2单元501 电话139-0000-0901 座机0421-1234567"
    await chat.send("王大娘", need)
    out = await chat.send("王大娘", "确认")
    offer = chat.last_to("钱志愿", out)
    async with chat.sessions() as s:
        group = (await s.execute(select(OutboxMessage.text).where(OutboxMessage.address == "g-pl"))).scalars().all()
    for card in (offer, group[0]):
        for secret in ("501", "0000-0901", "1234567", "3号楼"):
            assert secret not in card
        assert "*号楼*单元*" in card and "139****0901" in card
    out = await chat.send("赵志愿", "接单 #1")
    won = chat.last_to("赵志愿", out)
    assert "3号楼2单元501" in won and "139-0000-0901" in won and "0421-1234567" in won
    async with chat.sessions() as s:
        edit = (await s.execute(select(OutboxMessage.text).where(OutboxMessage.address == "g-pl",
                                                                 OutboxMessage.kind == "edit"))).scalars().all()
    assert edit and "501" not in edit[-1]  # the group card, edited to say who took it, stays masked
