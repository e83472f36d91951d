"""微心愿 from submission to confirmation, through the fake channel, with everyone told at each step."""

from __future__ import annotations

from sqlalchemy import select

from handlers.core.messages import InboundMessage, Media
from storage.models import AuditEntry, Person, RoleGrant
from storage.models.wishes import Wish


async def _grant(chat, name: str, role: str, unit: str) -> None:
    async with chat.sessions() as s:
        p = Person(name=name, org_unit_id=chat.ids[unit], created_at=chat.clock.now())
        s.add(p)
        await s.flush()
        s.add(RoleGrant(person_id=p.id, role=role, org_unit_id=chat.ids[unit]))
        await s.commit()
        chat.ids[name] = p.id


async def _cast(chat) -> None:
    await _grant(chat, "台吉书记", "first_secretary", "TJC")
    await _grant(chat, "联合会", "federation_admin", "BP")


async def _send_photo(chat, name: str, text: str, ref: str):
    pid = await chat.person_id(name)
    chat._seq += 1
    msg = InboundMessage(platform="test", user_id=f"u{pid}", chat_id=f"u{pid}", text=text,
                         message_id=f"photo{chat._seq}", user_name=name, media=(Media("photo", ref),))
    before = len(chat.channel.sent)
    await chat.engine.handle(msg)
    await chat.relay.deliver_pending()
    return chat.channel.sent[before:]


def _buttons(chat, name: str, out) -> list[str]:
    return [b.data for m in out if m.person_id == chat.ids[name] for b in m.buttons]


async def test_a_wish_from_submission_to_confirmation(chat) -> None:
    await _cast(chat)
    out = await chat.send("台吉书记", "心愿 李大爷 想要一台收音机 约80元")
    assert "已登记心愿 #1：李大爷 想要一台收音机 约80元（台吉村）" in chat.last_to("台吉书记", out)
    assert "李大爷：想要一台收音机" in chat.last_to("联合会", out)
    assert _buttons(chat, "联合会", out) == ["发布心愿 #1"]

    out = await chat.send("联合会", "发布心愿 #1")
    assert "已发布心愿 #1给：台吉村志愿服务队" in chat.last_to("联合会", out)
    assert "等您认领" in chat.last_to("周台吉", out) and _buttons(chat, "周台吉", out) == ["认领 #1"]
    assert "已发布，等待志愿者认领" in chat.last_to("台吉书记", out)
    assert not chat.to("赵志愿", out)  # 蓬莱's volunteers are not the nearest team

    out = await chat.send("周台吉", "认领 #1")
    assert "认领成功" in chat.last_to("周台吉", out)
    assert "已由志愿者 周台吉 认领" in chat.last_to("台吉书记", out)
    assert "已由志愿者 周台吉 认领" in chat.last_to("联合会", out)
    out = await chat.send("赵志愿", "认领＃1")
    assert "已经被其他志愿者认领了" in chat.last_to("赵志愿", out)

    out = await chat.send("周台吉", "实现 #1")
    assert "请发一张照片" in chat.last_to("周台吉", out)
    out = await _send_photo(chat, "周台吉", "", "tg-file-123")
    assert "已报告实现，等待村里确认" in chat.last_to("周台吉", out)
    assert "凭证：[照片]" in chat.last_to("台吉书记", out)
    assert _buttons(chat, "台吉书记", out) == ["确认心愿 #1"]
    assert "等待村里确认" in chat.last_to("联合会", out)

    out = await chat.send("台吉书记", "确认心愿 #1")
    assert "已确认心愿 #1" in chat.last_to("台吉书记", out)
    assert "谢谢您的爱心" in chat.last_to("周台吉", out)
    assert "已确认实现" in chat.last_to("联合会", out)

    async with chat.sessions() as s:
        wish = await s.get(Wish, 1)
        assert wish.status == "confirmed" and wish.claimed_by_id == chat.ids["周台吉"]
        assert wish.proof == [{"kind": "photo", "ref": "tg-file-123"}]
        actions = (await s.execute(select(AuditEntry.action).where(AuditEntry.target_type == "wish",
                                                                   AuditEntry.outcome == "ok"))).scalars().all()
        assert actions == ["wish_submit", "wish_publish", "wish_claim", "wish_fulfil", "wish_confirm"]


async def test_a_text_proof_where_photos_cannot_be_sent(chat) -> None:
    await _cast(chat)
    await chat.send("台吉书记", "心愿 李大爷 想要一副老花镜")
    await chat.send("联合会", "发布心愿 #1")
    await chat.send("周台吉", "认领 #1")
    out = await chat.send("周台吉", "实现 #1 照片：已送到李大爷家，老人很高兴 https://example.org/p.jpg")
    assert "已报告实现" in chat.last_to("周台吉", out)
    assert "凭证：已送到李大爷家，老人很高兴 https://example.org/p.jpg" in chat.last_to("台吉书记", out)
    async with chat.sessions() as s:
        assert (await s.get(Wish, 1)).proof == [
            {"kind": "text", "ref": "已送到李大爷家，老人很高兴 https://example.org/p.jpg"}]


async def test_the_proof_photo_may_come_after_other_messages(chat) -> None:
    await _cast(chat)
    await chat.send("台吉书记", "心愿 李大爷 想要一副老花镜")
    await chat.send("联合会", "发布心愿 #1")
    await chat.send("周台吉", "认领 #1")
    await chat.send("周台吉", "实现 #1")
    await chat.send("周台吉", "我的")  # other commands still work while the proof is awaited
    out = await _send_photo(chat, "周台吉", "", "tg-file-9")
    assert "已报告实现" in chat.last_to("周台吉", out)


async def test_who_may_do_what(chat) -> None:
    await _cast(chat)
    await _grant(chat, "城关联合会", "federation_admin", "CG")
    out = await chat.send("赵志愿", "心愿 李大爷 想要收音机")
    assert "只有驻村第一书记或管理员" in chat.last_to("赵志愿", out)
    await chat.send("台吉书记", "心愿 李大爷 想要收音机")
    out = await chat.send("周台吉", "认领 #1")
    assert "还不能认领" in chat.last_to("周台吉", out)
    out = await chat.send("城关联合会", "发布心愿 #1")  # 城关 does not cover 台吉村
    assert "只有负责这个村的志愿服务联合会管理员" in chat.last_to("城关联合会", out)
    await chat.send("联合会", "发布心愿 #1")
    out = await chat.send("联合会", "发布心愿 #1")
    assert "不需要再发布" in chat.last_to("联合会", out)
    out = await chat.send("王大娘", "认领 #1")
    assert "只有注册的志愿者可以认领" in chat.last_to("王大娘", out)
    await chat.send("周台吉", "认领 #1")
    out = await chat.send("赵志愿", "实现 #1 照片:假的")
    assert "只有认领了心愿 #1的志愿者" in chat.last_to("赵志愿", out)
    out = await chat.send("蓬莱站长", "确认心愿 #1")
    assert "只有这个村的第一书记或管理员" in chat.last_to("蓬莱站长", out)
    out = await chat.send("台吉书记", "确认心愿 #1")
    assert "现在已认领，不能确认" in chat.last_to("台吉书记", out)
    out = await chat.send("周台吉", "认领 #9")
    assert "没有找到心愿 #9" in chat.last_to("周台吉", out)
    out = await chat.send("周台吉", "认领")
    assert "请这样发：认领 #心愿号" in chat.last_to("周台吉", out)
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry.action).where(AuditEntry.outcome == "refused")
                                   .order_by(AuditEntry.id))).scalars().all()
        assert refused == ["wish_submit", "wish_publish", "wish_claim", "wish_fulfil", "wish_confirm"]


async def test_admins_name_the_village_and_everyone_can_list(chat) -> None:
    await _cast(chat)
    out = await chat.send("中心管理员", "心愿 王大娘 想要一个电暖器")
    assert "请这样发：心愿 村名 户名 心愿内容" in chat.last_to("中心管理员", out)
    out = await chat.send("中心管理员", "心愿 台吉村 李大爷 想要一个电暖器")
    assert "已登记心愿 #1：李大爷 想要一个电暖器（台吉村）" in chat.last_to("中心管理员", out)
    out = await chat.send("蓬莱站长", "心愿 王大娘 想要一本大字版字典")  # a station admin: their own station
    assert "（蓬莱社区）" in chat.last_to("蓬莱站长", out)
    await chat.send("联合会", "发布心愿 #1")
    out = await chat.send("赵志愿", "心愿")
    assert "心愿 #1【待认领】台吉村 李大爷：想要一个电暖器  → 认领 #1" in chat.last_to("赵志愿", out)
    assert "#2" not in chat.last_to("赵志愿", out)  # not yet published
    out = await chat.send("联合会", "/wish")
    assert "#1" in chat.last_to("联合会", out) and "心愿 #2【待发布】" in chat.last_to("联合会", out)
    out = await chat.send("王大娘", "心愿 #2")
    assert "心愿 #2【待发布】蓬莱社区 王大娘" in chat.last_to("王大娘", out)
