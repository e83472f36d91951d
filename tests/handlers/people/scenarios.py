"""A short conversation per people action, for the audit test (tests/handlers/test_actions.py).

On conftest's small county: 陈刚 captains 科技服务队 (invite code KJ2026). Each scenario makes its
action run successfully once.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable

from handlers.core.messages import InboundMessage

GROUP = "-100888"
_ids = itertools.count(1)


async def in_group(chat, name: str, text: str) -> str:
    """Send `text` as `name` inside a group chat; the bot's answer there."""
    pid = await chat.person_id(name)
    sent = await chat.engine.handle(InboundMessage(platform="test", user_id=f"u{pid}", chat_id=GROUP,
                                                   chat_type="group", text=text, message_id=f"ps-g{next(_ids)}",
                                                   user_name=name))
    return sent[-1].text


async def _register(chat) -> None:
    assert "已登记您在" in chat.last_to("新来的", await chat.send("新来的", "注册 杨树村"))


async def _join(chat) -> None:
    assert "欢迎 新队员 加入" in chat.last_to("新队员", await chat.send("新队员", "加入 KJ2026"))


async def _share_a_number_not_on_the_roster(chat) -> None:
    """A Telegram account proves a phone nobody on the roster has: it is kept on the sender's record."""
    sent = await chat.engine.handle(InboundMessage(platform="test", user_id="ps-tg", chat_id="ps-tg", text="/contact",
                                                   message_id=f"ps-c{next(_ids)}", user_name="Tg User",
                                                   verified_phone="+8613812345678"))
    assert "已记下您的手机号" in sent[-1].text


async def _bind(chat) -> None:
    assert "已绑定为「科技服务队」的队伍群" in await in_group(chat, "陈刚", "/bindgroup")


async def _unbind(chat) -> None:
    await _bind(chat)
    assert "已与「科技服务队」解绑" in await in_group(chat, "陈刚", "解绑群")


SCENARIOS: dict[str, Callable[..., Awaitable[None]]] = {
    "register": _register,
    "join": _join,
    "link_contact": _share_a_number_not_on_the_roster,
    "bind_group": _bind,
    "unbind_group": _unbind,
}
