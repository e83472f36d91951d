"""改类别 and 派单 teach the intake; 改类别 re-routes a task nobody took yet (issue 11)."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry
from tests.handlers.tasks.conversation import examples, tasks

HAIRCUT = "想请人帮俺家老头子理个发"


async def _ordered(chat, text: str = HAIRCUT) -> None:
    await chat.send("王大娘", text)
    await chat.send("王大娘", "确认")


async def test_recategorise_reroutes_an_untaken_task_and_is_learned(chat) -> None:
    await _ordered(chat)  # 助老助残 → 蓬莱社区志愿服务队
    out = await chat.send("城关所长", "改类别 #1 农业技术")
    assert chat.last_to("城关所长", out) == "已把任务 #1 的类别从「助老助残」改为「农业技术」，已重新派给「科技服务队」。"
    assert "改了类别，已改派给其他队伍" in chat.last_to("赵志愿", out)
    assert "类别调整为「农业技术」" in chat.last_to("王大娘", out)
    assert "新任务 #1【农业技术】" in chat.last_to("姜兆彤", out)
    assert (await tasks(chat))[0].category == "农业技术"
    assert (await examples(chat))[-1] == (HAIRCUT, "农业技术", "corrected", "助老助残")
    out = await chat.send("赵志愿", "接单 #1")  # no longer offered to his team
    assert "接单成功" not in chat.last_to("赵志愿", out)


async def test_recategorise_keeps_a_taken_task_with_its_volunteer(chat) -> None:
    await _ordered(chat)
    await chat.send("赵志愿", "接单 #1")
    out = await chat.send("蓬莱站长", "改类别 #1 生活帮扶")
    assert chat.last_to("蓬莱站长", out).endswith("已有志愿者接单，不再改派。")
    [task] = await tasks(chat)
    assert (task.category, task.status) == ("生活帮扶", "accepted")


async def test_recategorise_is_for_admins_over_the_task_and_refusals_are_audited(chat) -> None:
    await _ordered(chat)
    for who in ("赵志愿", "台吉站长"):
        out = await chat.send(who, "改类别 #1 法律服务")
        assert chat.last_to(who, out) == "只有蓬莱社区新时代文明实践站及其上级的管理员可以改任务 #1 的类别。"
    assert (await tasks(chat))[0].category == "助老助残"
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.action == "recategorise"))).scalars().all()
    assert [r.outcome for r in refused] == ["refused", "refused"] and refused[0].target_id == 1
    assert [e[2] for e in await examples(chat)] == ["confirmed"]


async def test_recategorise_answers_bad_input_politely(chat) -> None:
    await _ordered(chat)
    assert "请这样发：改类别 #任务号 类别" in chat.last_to("蓬莱站长", await chat.send("蓬莱站长", "改类别 #1 修电脑"))
    assert "类别有：理论宣讲" in chat.last_to("蓬莱站长", await chat.send("蓬莱站长", "改类别"))
    assert "没有找到任务 #9" in chat.last_to("蓬莱站长", await chat.send("蓬莱站长", "改类别 #9 卫生健康"))
    out = await chat.send("蓬莱站长", "改类别 #1 助老助残")
    assert "已经是「助老助残」" in chat.last_to("蓬莱站长", out)


async def test_dispatch_to_a_team_of_another_category_is_a_lesson(chat) -> None:
    await _ordered(chat, "邻居占了我家宅基地，想找人咨询一下法律问题")  # 法律服务: no team, with the station
    out = await chat.send("中心管理员", "派单 #1 科技服务队")
    assert "已把任务 #1 派给「科技服务队」" in chat.last_to("中心管理员", out)
    assert (await examples(chat))[-1] == ("邻居占了我家宅基地，想找人咨询一下法律问题", "农业技术", "corrected",
                                          "法律服务")


async def test_dispatch_to_a_team_of_the_same_category_teaches_nothing_new(chat) -> None:
    await _ordered(chat)
    before = await examples(chat)
    await chat.send("城关所长", "派单 #1 城关综合服务分队")
    assert await examples(chat) == before
