"""Roles and scopes (docs/roles.md): every refusal is polite, changes nothing, and is audited."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry, Task, TaskOffer


async def _order(chat, who: str = "王大娘", text: str = "奶奶八十多了，想请人来帮忙理个发") -> None:
    await chat.send(who, text)
    await chat.send(who, "确认")


async def _refusals(chat, action: str) -> list[AuditEntry]:
    async with chat.sessions() as s:
        return list((await s.execute(
            select(AuditEntry).where(AuditEntry.action == action, AuditEntry.outcome == "refused")
        )).scalars())


async def test_station_admin_cannot_dispatch_outside_the_station(chat) -> None:
    await _order(chat, "李大爷")  # a task at 台吉村, outside 蓬莱社区
    out = await chat.send("蓬莱站长", "派单 #1 蓬莱社区志愿服务队")
    assert "只有台吉村新时代文明实践站及其上级的管理员" in chat.last_to("蓬莱站长", out)
    assert len(await _refusals(chat, "dispatch")) == 1


async def test_station_admin_cannot_dispatch_to_a_team_outside_the_station(chat) -> None:
    await _order(chat)  # 蓬莱社区's task
    out = await chat.send("蓬莱站长", "派单 #1 科技服务队")
    assert "不在您管辖的" in chat.last_to("蓬莱站长", out)
    async with chat.sessions() as s:
        teams = (await s.execute(select(TaskOffer.team_id).where(TaskOffer.task_id == 1))).scalars().all()
    assert teams == [chat.ids["PLD"]]
    assert len(await _refusals(chat, "dispatch")) == 1


async def test_station_admin_dispatches_inside_and_the_center_admin_anywhere(chat) -> None:
    # A need no team serves (held by the station admin): 派单 to a team already offered it is refused (issue 14).
    await _order(chat, text="邻居占了我家宅基地，想找人咨询一下法律问题")
    out = await chat.send("蓬莱站长", "派单 #1 蓬莱社区志愿服务队")
    assert "已把任务 #1 派给「蓬莱社区志愿服务队」" in chat.last_to("蓬莱站长", out)
    out = await chat.send("中心管理员", "派单 #1 文艺志愿服务队")
    assert "已把任务 #1 派给「文艺志愿服务队」" in chat.last_to("中心管理员", out)
    assert chat.to("张文艺", out)


async def test_volunteer_cannot_dispatch(chat) -> None:
    await _order(chat)
    out = await chat.send("赵志愿", "派单 #1 蓬莱社区志愿服务队")
    assert "管理员" in chat.last_to("赵志愿", out)
    assert len(await _refusals(chat, "dispatch")) == 1


async def test_volunteer_outside_the_offered_teams_cannot_accept(chat) -> None:
    await _order(chat)
    out = await chat.send("姜兆彤", "接单 #1")
    assert "只有这些队伍的队员可以接单" in chat.last_to("姜兆彤", out)
    async with chat.sessions() as s:
        assert (await s.get(Task, 1)).status == "dispatched"
    assert len(await _refusals(chat, "accept")) == 1


async def test_resident_never_sees_a_volunteers_phone(chat) -> None:
    await _order(chat)
    out = await chat.send("赵志愿", "接单 #1")
    out += await chat.send("赵志愿", "完成 #1 2小时")
    out += await chat.send("王大娘", "评价 #1 5")
    out += await chat.send("王大娘", "我的")
    for text in chat.to("王大娘", out):
        assert "13900000015" not in text


async def test_unassigned_volunteer_does_not_see_the_contact(chat) -> None:
    await _order(chat, text="老人腿脚不好想请人陪着去理发，电话13911112222")
    out = await chat.send("钱志愿", "我的")
    for m in chat.channel.sent:
        if m.person_id in (chat.ids["钱志愿"], chat.ids["赵志愿"]):
            assert "13911112222" not in m.text
    assert out


async def test_only_the_resident_may_rate_and_only_assignees_complete(chat) -> None:
    await _order(chat)
    await chat.send("赵志愿", "接单 #1")
    out = await chat.send("钱志愿", "完成 #1 2小时")
    assert "只有接了任务 #1 的志愿者" in chat.last_to("钱志愿", out)
    await chat.send("赵志愿", "完成 #1 2小时")
    out = await chat.send("赵志愿", "评价 #1 5")
    assert "只有点单的居民" in chat.last_to("赵志愿", out)
    assert {e.action for e in await _refusals(chat, "complete")} == {"complete"}
    assert len(await _refusals(chat, "rate")) == 1


async def test_resident_cancels_own_task_only_before_accept(chat) -> None:
    await _order(chat)
    out = await chat.send("李大爷", "取消 #1")
    assert "只有点单的居民或管理员" in chat.last_to("李大爷", out)
    await chat.send("赵志愿", "接单 #1")
    out = await chat.send("王大娘", "取消 #1")
    assert "不能取消" in chat.last_to("王大娘", out)
    out = await chat.send("蓬莱站长", "取消 #1")
    assert "已取消" in chat.last_to("蓬莱站长", out)
    assert "不用再去了" in chat.last_to("赵志愿", out)


async def test_stats_are_scoped(chat) -> None:
    await _order(chat)
    out = await chat.send("蓬莱站长", "统计 台吉村")
    assert "不在您的管辖范围内" in chat.last_to("蓬莱站长", out)
    out = await chat.send("城关所长", "统计")
    text = chat.last_to("城关所长", out)
    assert "城关街道" in text and "任务 1 个" in text
    out = await chat.send("中心管理员", "统计 蓬莱社区")
    assert "蓬莱社区" in chat.last_to("中心管理员", out)
    assert len(await _refusals(chat, "stats")) == 1


async def test_bad_input_gets_a_polite_hint(chat) -> None:
    await _order(chat)
    for text, expect in [
        ("接单", "接单 #12"), ("接单 #999", "没有找到任务 #999"), ("完成 #abc", "完成 #12"),
        ("评价 #1 九", "评价 #任务号 1-5"), ("评价 #1 5", "现在待接单，不能评价"), ("注册", "注册 杨家村"), ("注册 火星村", "没有找到"), ("加入 NOPE", "邀请码不对"),
    ]:
        out = await chat.send("王大娘", text)
        assert expect in chat.last_to("王大娘", out), text
