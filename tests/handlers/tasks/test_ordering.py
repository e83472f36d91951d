"""Confirming a draft (the `order` action): one reply, composed from where the task went; 代点单 tells the resident."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry, OutboxMessage, Task


async def _replies_to(chat, name: str) -> list[OutboxMessage]:
    async with chat.sessions() as s:
        return list((await s.execute(select(OutboxMessage).where(
            OutboxMessage.person_id == chat.ids[name], OutboxMessage.kind == "reply").order_by(OutboxMessage.id)
        )).scalars())


async def test_with_no_team_for_the_need_the_one_reply_names_the_admin_who_has_it(chat) -> None:
    # Issue 14: the villager is told who holds the task, in words (it used to say only "an admin").
    await chat.send("王大娘", "邻居占了我家宅基地，想找人咨询一下法律问题")
    out = await chat.send("王大娘", "确认")
    assert chat.to("王大娘", out) == [(
        "已提交！您的任务号是 #1。暂时没有对口的志愿服务队，已交给蓬莱社区的站长蓬莱站长处理，有进展我会马上告诉您。"
        "\n查看进度请发：我的")]
    assert "请人工派单：派单 #1 <队伍名>" in chat.last_to("蓬莱站长", out)
    assert not chat.to("城关所长", out)  # the station's admins are asked first
    replies = await _replies_to(chat, "王大娘")
    assert [r.text for r in replies][-1] == chat.last_to("王大娘", out)
    async with chat.sessions() as s:
        dispatch = (await s.execute(select(AuditEntry).where(AuditEntry.action == "dispatch"))).scalar_one()
        assert (await s.get(Task, 1)).status == "submitted"
    assert dispatch.outcome == "no_team"


async def test_the_reply_names_the_team_it_went_to(chat) -> None:
    await chat.send("王大娘", "奶奶八十多了，想请人来帮忙理个发")
    out = await chat.send("王大娘", "确认")
    assert chat.to("王大娘", out) == [
        "已提交！您的任务号是 #1。已派给「蓬莱社区志愿服务队」，有志愿者接单后我会马上告诉您。\n查看进度请发：我的"]


async def test_ordering_on_behalf_tells_the_resident_where_it_went(chat) -> None:
    await chat.send("蓬莱站长", "代点单 王大娘 奶奶八十多了，想请人来帮忙理个发")
    out = await chat.send("蓬莱站长", "确认")
    assert "任务号是 #1" in chat.last_to("蓬莱站长", out)
    told = chat.last_to("王大娘", out)
    assert told.startswith("蓬莱站长为您代点了一项服务（任务 #1）：奶奶八十多了，想请人来帮忙理个发\n")
    assert "已派给「蓬莱社区志愿服务队」" in told
    async with chat.sessions() as s:
        task = await s.get(Task, 1)
        order = (await s.execute(select(AuditEntry).where(AuditEntry.action == "order"))).scalar_one()
    assert (task.resident_id, task.created_by_id) == (chat.ids["王大娘"], chat.ids["蓬莱站长"])
    assert order.actor_id == chat.ids["蓬莱站长"] and order.detail["on_behalf"] is True
