"""The whole 点单→派单→接单→完成→评单 loop, through the fake channel, as the people involved."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import AuditEntry, HoursEntry, OutboxMessage, Task


async def test_full_loop(chat) -> None:
    out = await chat.send("王大娘", "我家隔壁孤寡老人没人照顾，想请志愿者明天上午去看看，电话13900000001")
    draft = chat.last_to("王大娘", out)
    assert "请确认" in draft and "助老助残" in draft and "蓬莱社区" in draft

    out = await chat.send("王大娘", "确认")
    assert "任务号是 #1" in chat.last_to("王大娘", out)
    assert "蓬莱社区志愿服务队" in chat.last_to("王大娘", out)
    # Both station-team members are told, with a button; the phone is masked for them.
    offer = chat.last_to("赵志愿", out)
    assert "#1" in offer and "13900000001" not in offer and "139****0001" in offer
    assert chat.to("钱志愿", out)
    assert not chat.to("姜兆彤", out)  # not the farming team
    buttons = [m.buttons for m in out if m.person_id == chat.ids["赵志愿"]][0]
    assert buttons[0].data == "接单 #1"

    out = await chat.send("赵志愿", "接单 #1")
    won = chat.last_to("赵志愿", out)
    assert "接单成功" in won and "13900000001" in won  # assigned: may see the contact
    told = chat.last_to("王大娘", out)
    assert "赵志愿" in told and "13900000015" not in told  # never the volunteer's phone

    out = await chat.send("钱志愿", "接单＃1")
    assert "已经有人接了" in chat.last_to("钱志愿", out)

    out = await chat.send("赵志愿", "完成 1号 两个小时")
    assert "2 小时" in chat.last_to("赵志愿", out)
    rate_prompt = [m for m in out if m.person_id == chat.ids["王大娘"]][-1]
    assert "评价 #1" in rate_prompt.text and rate_prompt.buttons[0].data == "评价 #1 5"

    out = await chat.send("王大娘", "评价 #1 5 小伙子很热心")
    assert "谢谢您的评价" in chat.last_to("王大娘", out)
    assert "2 小时" in chat.last_to("赵志愿", out)

    out = await chat.send("赵志愿", "我的")
    assert "志愿时长：2 小时" in chat.last_to("赵志愿", out)

    async with chat.sessions() as s:
        task = await s.get(Task, 1)
        assert task.status == "closed" and task.rating == 5
        assert (await s.execute(select(func.sum(HoursEntry.hours)))).scalar_one() == 2
        actions = (await s.execute(select(AuditEntry.action).where(AuditEntry.target_id == 1))).scalars().all()
        for action in ("order", "dispatch", "accept", "complete", "rate"):
            assert action in actions


async def test_routing_climbs_to_the_center_for_farming(chat) -> None:
    await chat.send("王大娘", "大棚里的黄瓜叶子发黄，想请农技员来指导")
    out = await chat.send("王大娘", "1")
    assert "科技服务队" in chat.last_to("王大娘", out)
    assert chat.to("姜兆彤", out) and not chat.to("赵志愿", out)


async def test_unregistered_person_is_asked_for_a_village_then_continues(chat) -> None:
    out = await chat.send("新来的", "家里水管冻裂了，需要人帮忙修")
    assert "注册" in chat.last_to("新来的", out)
    out = await chat.send("新来的", "注册 杨树村")
    texts = chat.to("新来的", out)
    assert "杨树村新时代文明实践站" in texts[0]
    assert "请确认" in texts[1] and "生活帮扶" in texts[1]
    assert "家里水管冻裂了，需要人帮忙修" in texts[1]  # shown as typed, full-width comma kept


async def test_a_village_name_picks_the_station_not_its_point(chat) -> None:
    out = await chat.send("新来的", "注册 蓬莱")
    assert "已登记您在「蓬莱社区新时代文明实践站」" in chat.last_to("新来的", out)


async def test_cancelling_a_draft_creates_nothing(chat) -> None:
    await chat.send("王大娘", "想请人讲讲垃圾分类")
    out = await chat.send("王大娘", "取消")
    assert "已取消" in chat.last_to("王大娘", out)
    async with chat.sessions() as s:
        assert (await s.execute(select(func.count(Task.id)))).scalar_one() == 0


async def test_two_volunteers_needed_second_accept_also_wins(chat) -> None:
    await chat.send("王大娘", "独居老人冬天取暖困难，需要帮忙搬煤")
    await chat.send("王大娘", "确认")
    async with chat.sessions() as s:
        task = await s.get(Task, 1)
        task.volunteers_needed = 2
        await s.commit()
    assert "接单成功" in chat.last_to("赵志愿", await chat.send("赵志愿", "接单 #1"))
    assert "接单成功" in chat.last_to("钱志愿", await chat.send("钱志愿", "接单 #1"))
    async with chat.sessions() as s:
        assert (await s.get(Task, 1)).status == "accepted"


async def test_release_reopens_and_tells_the_team(chat) -> None:
    await chat.send("王大娘", "奶奶八十多了，想请人来帮忙理个发")
    await chat.send("王大娘", "确认")
    await chat.send("赵志愿", "接单 #1")
    out = await chat.send("赵志愿", "放弃 #1")
    assert "已放弃" in chat.last_to("赵志愿", out)
    assert "空出来" in chat.last_to("钱志愿", out)
    assert "接单成功" in chat.last_to("钱志愿", await chat.send("钱志愿", "接单 #1"))


async def test_redelivered_message_has_no_second_effect(chat) -> None:
    await chat.send("王大娘", "奶奶想理个发", message_id="dup-1")
    again = await chat.send("王大娘", "奶奶想理个发", message_id="dup-1")
    assert again == []
    async with chat.sessions() as s:
        assert (await s.execute(select(func.count(OutboxMessage.id)))).scalar_one() == 1
