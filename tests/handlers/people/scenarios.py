"""A short conversation per people action, for the audit test (tests/handlers/test_actions.py).

On conftest's small county: 陈刚 captains 科技服务队 (invite code KJ2026). Each scenario makes its
action run successfully once.
"""

from __future__ import annotations

import itertools
import re
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


async def claim(chat, stranger: str = "陌生人", name: str = "刘农技") -> list:
    """A new account asks to be 刘农技 of 科技服务队 (KJ2026): a request 陈刚 is asked to approve."""
    out = await chat.send(stranger, f"加入 KJ2026 {name}")
    assert "需要先确认是本人" in chat.last_to(stranger, out)
    return out


async def _approve(chat) -> None:
    await claim(chat)
    assert "已同意" in chat.last_to("陈刚", await chat.send("陈刚", "同意绑定 #1"))


async def _refuse(chat) -> None:
    await claim(chat)
    assert "已拒绝" in chat.last_to("陈刚", await chat.send("陈刚", "拒绝绑定 #1"))


async def _prove(chat) -> None:
    await chat.person_id("刘农技")  # 刘农技 has a chat account already: the code goes there
    out = await claim(chat)
    code = re.search(r"验证码 (\d{6})", chat.last_to("刘农技", out))
    assert code, chat.to("刘农技", out)
    assert "验证成功" in chat.last_to("陌生人", await chat.send("陌生人", f"验证码 {code.group(1)}"))


async def _rotate(chat) -> None:
    assert "的新邀请码" in chat.last_to("陈刚", await chat.send("陈刚", "换邀请码"))


async def _bind_customer_group(chat) -> None:
    """陈刚 owns a WeChat customer group (WeCom account "chengang") and binds it in the WeCom app."""
    from storage.people.customer_groups import remember_groups
    from storage.people.identities import link_identity

    pid = await chat.person_id("陈刚")
    async with chat.sessions() as s:
        await remember_groups(s, [("wrcgKJ", "科技服务队客户群", "chengang", 42)], now=chat.clock.now())
        await link_identity(s, platform="wecom", external_id="chengang", person_id=pid, now=chat.clock.now())
        await s.commit()
    sent = await chat.engine.handle(InboundMessage(platform="wecom", user_id="chengang", chat_id="chengang",
                                                   text="绑定客户群 科技服务队客户群", message_id=f"ps-w{next(_ids)}"))
    assert "已把客户群「科技服务队客户群」（42 人）绑定到「科技服务队」" in sent[-1].text


SCENARIOS: dict[str, Callable[..., Awaitable[None]]] = {
    "link_approve": _approve,
    "link_refuse": _refuse,
    "link_code": _prove,
    "invite_rotate": _rotate,
    "register": _register,
    "join": _join,
    "link_contact": _share_a_number_not_on_the_roster,
    "bind_group": _bind,
    "unbind_group": _unbind,
    "customer_group_bind": _bind_customer_group,
}
