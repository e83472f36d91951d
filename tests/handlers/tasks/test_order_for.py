"""代点单 for people without a phone (issue 14 point 3): by village and name; the orderer is the contact."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import AuditEntry, OutboxMessage, Person, Task


async def test_an_admin_orders_for_an_elder_with_no_phone_and_hears_every_update(chat) -> None:
    out = await chat.send("蓬莱站长", "代点单 蓬莱社区 周奶奶 烟囱堵了 一烧炕满屋子烟 想找人给通通")
    draft = chat.last_to("蓬莱站长", out)
    assert "请确认为「周奶奶」代点的需求" in draft and "周奶奶还没有登记，确认后为她/他建档，联系人是您" in draft
    async with chat.sessions() as s:  # nothing is created until it is confirmed
        assert (await s.execute(select(func.count()).where(Person.name == "周奶奶"))).scalar_one() == 0
    out = await chat.send("蓬莱站长", "确认")
    assert "任务号是 #1" in chat.last_to("蓬莱站长", out)
    async with chat.sessions() as s:
        elder = (await s.execute(select(Person).where(Person.name == "周奶奶"))).scalar_one()
        task = await s.get(Task, 1)
        order = (await s.execute(select(AuditEntry).where(AuditEntry.action == "order"))).scalar_one()
        to_elder = (await s.execute(select(func.count()).where(OutboxMessage.person_id == elder.id))).scalar_one()
    assert (elder.phone, elder.org_unit_id, elder.is_resident) == (None, chat.ids["PL"], True)
    assert (task.resident_id, task.created_by_id, task.phone) == (elder.id, chat.ids["蓬莱站长"], "13900000030")
    assert order.detail["new_resident"] is True and to_elder == 0  # she cannot be reached: nothing queued

    out = await chat.send("赵志愿", "接单 #1")
    assert "服务对象：周奶奶；联系人：蓬莱站长（13900000030）（代点单）" in chat.last_to("赵志愿", out)
    assert "志愿者 赵志愿 接了您的任务 #1" in chat.last_to("蓬莱站长", out)
    out = await chat.send("赵志愿", "完成 #1 1小时")
    assert "请为这次服务打分" in chat.last_to("蓬莱站长", out)
    out = await chat.send("蓬莱站长", "评价 #1 5 通好了")
    assert "谢谢您的评价" in chat.last_to("蓬莱站长", out)

    await chat.send("蓬莱站长", "代点单 蓬莱社区 周奶奶 想请人帮着理个发")
    await chat.send("蓬莱站长", "确认")
    async with chat.sessions() as s:  # the second order finds her row
        assert (await s.execute(select(func.count()).where(Person.name == "周奶奶"))).scalar_one() == 1


async def test_a_name_nobody_has_gets_the_next_step_not_a_dead_end(chat) -> None:
    out = await chat.send("蓬莱站长", "代点单 周奶奶 烟囱堵了")
    reply = chat.last_to("蓬莱站长", out)
    assert "没有找到已登记的居民「周奶奶」" in reply and "代点单 蓬莱社区 周奶奶 烟囱堵了" in reply


async def test_ordering_for_an_elder_of_another_village_is_refused_before_drafting(chat) -> None:
    out = await chat.send("蓬莱站长", "代点单 台吉村 周奶奶 烟囱堵了")
    assert "只有台吉村新时代文明实践站的管理员或驻村第一书记" in chat.last_to("蓬莱站长", out)
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.outcome == "refused"))).scalar_one()
    assert (refused.action, refused.target_type, refused.target_id) == ("order_for", "org_unit", chat.ids["TJC"])


async def test_an_emergency_ordered_for_an_elder_goes_out_at_once(chat) -> None:
    out = await chat.send("蓬莱站长", "代点单 蓬莱社区 周奶奶 摔倒了起不来了")
    texts = chat.to("蓬莱站长", out)
    assert texts[0].startswith("⚠️ 请马上拨打 120") and "已为您发出紧急求助（任务 #1）" in texts[-1]
    async with chat.sessions() as s:
        task = await s.get(Task, 1)
        elder = await s.get(Person, task.resident_id)
    assert (elder.name, task.emergency, task.status) == ("周奶奶", "medical", "dispatched")
