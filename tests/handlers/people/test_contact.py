"""分享手机号: a proved phone links the chat account to its roster row; nothing else does."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from handlers.core.messages import InboundMessage, Media
from handlers.people.contact import normalize_phone
from storage.models import AuditEntry, ChannelIdentity, Person

_ids = itertools.count(1)


async def from_account(chat, account: str, text: str, *, platform: str = "test", verified: str | None = None,
                       media: tuple[Media, ...] = (), chat_type: str = "private") -> list:
    """Send as a chat account the roster does not know yet; return the outbox rows written."""
    msg = InboundMessage(platform=platform, user_id=account, chat_id=account if chat_type == "private" else "-5",
                         chat_type=chat_type, text=text, message_id=f"c{next(_ids)}", user_name="Tg User",
                         verified_phone=verified, media=media)
    return await chat.engine.handle(msg)


async def person_of(chat, account: str, platform: str = "test") -> Person:
    async with chat.sessions() as s:
        ident = (await s.execute(select(ChannelIdentity).where(
            ChannelIdentity.platform == platform, ChannelIdentity.external_id == account))).scalar_one()
        return await s.get(Person, ident.person_id)


@pytest.mark.parametrize("raw", ["13900000011", "+8613900000011", "86 139-0000-0011", "008613900000011"])
def test_phone_forms_are_normalised(raw: str) -> None:
    assert normalize_phone(raw) == "13900000011"


async def test_own_contact_links_the_account_to_the_roster_person(chat) -> None:
    sent = await from_account(chat, "tg-1", "/contact", verified="+86 139 0000 0011",
                              media=(Media("contact", "+8613900000011"),))
    assert "姜兆彤（科技服务队）" in sent[-1].text and "139****0011" in sent[-1].text
    assert (await person_of(chat, "tg-1")).id == chat.ids["姜兆彤"]
    async with chat.sessions() as s:
        audit = (await s.execute(select(AuditEntry).where(AuditEntry.action == "link_identity"))).scalar_one()
        assert audit.target_id == chat.ids["姜兆彤"] and audit.detail["method"] == "contact"
    # From now on the account acts as the volunteer.
    sent = await from_account(chat, "tg-1", "我的")
    assert sent[-1].text.startswith("姜兆彤，您好")
    sent = await from_account(chat, "tg-1", "/contact", verified="13900000011")
    assert "已经绑定好了" in sent[-1].text


async def test_someone_elses_contact_links_nothing(chat) -> None:
    sent = await from_account(chat, "tg-2", "/contact", media=(Media("contact", "13900000011"),))
    assert "只能分享您本人的手机号" in sent[-1].text
    assert (await person_of(chat, "tg-2")).id != chat.ids["姜兆彤"]
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.outcome == "refused"))).scalars().all()
        assert [a.action for a in refused] == ["link_contact"]


async def test_typed_command_asks_for_the_button_where_the_platform_can_prove_it(chat) -> None:
    sent = await from_account(chat, "tg-3", "分享手机号", platform="telegram")
    assert [b["data"] for b in sent[-1].buttons] == ["/contact"]
    sent = await from_account(chat, "tg-3", "/contact")
    assert sent[-1].buttons == [] and "加入 邀请码" in sent[-1].text


async def test_unknown_number_is_kept_but_links_nothing(chat) -> None:
    sent = await from_account(chat, "tg-4", "/contact", verified="+8613812345678")
    assert "花名册里还没有这个号码" in sent[-1].text
    person = await person_of(chat, "tg-4")
    assert person.phone == "13812345678" and person.id not in chat.ids.values()


async def test_not_in_a_group(chat) -> None:
    sent = await from_account(chat, "tg-5", "/contact", verified="13900000011", chat_type="group")
    assert "请私聊我" in sent[-1].text
    assert (await person_of(chat, "tg-5")).id != chat.ids["姜兆彤"]
