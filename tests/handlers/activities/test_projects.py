"""项目 and 受益: admins create projects in their unit and see them with activity and beneficiary counts."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry
from storage.models.activities import Project


async def test_an_admin_creates_a_project_in_their_unit(chat) -> None:
    out = await chat.send("中心管理员", "项目 周末文化广场")
    assert "已在「北票市新时代文明实践中心」新建项目「周末文化广场」" in chat.last_to("中心管理员", out)
    assert "已经有「周末文化广场」项目" in chat.last_to("中心管理员", await chat.send("中心管理员", "项目 周末文化广场"))
    await chat.send("蓬莱站长", "项目 周末文化广场")  # the same brand, one level down, is another project
    async with chat.sessions() as s:
        rows = [(p.name, p.org_unit_id) for p in (await s.execute(select(Project).order_by(Project.id))).scalars()]
        assert rows == [("周末文化广场", chat.ids["BP"]), ("周末文化广场", chat.ids["PL"])]
        assert (await s.execute(select(AuditEntry).where(AuditEntry.action == "project_create"))).scalars().all()


async def test_only_admins_create_and_the_list_follows_scope(chat) -> None:
    out = await chat.send("陈刚", "项目 德耀北票")
    assert "只有中心、所、站的管理员可以新建项目" in chat.last_to("陈刚", out)
    assert "还没有项目" in chat.last_to("中心管理员", await chat.send("中心管理员", "项目"))
    await chat.send("中心管理员", "项目 德耀北票")
    await chat.send("台吉站长", "项目 台吉书屋")
    center = chat.last_to("中心管理员", await chat.send("中心管理员", "项目"))
    assert "德耀北票" in center and "台吉书屋" in center
    station = chat.last_to("蓬莱站长", await chat.send("蓬莱站长", "项目"))
    assert "还没有项目" in station  # neither is inside 蓬莱社区
    # A captain sees the projects their team's activities may use: their unit's and above.
    captain = chat.last_to("陈刚", await chat.send("陈刚", "项目"))
    assert "德耀北票" in captain and "台吉书屋" not in captain
    assert "项目名称请控制" in chat.last_to("中心管理员", await chat.send("中心管理员", "项目 名称:错"))


async def test_beneficiaries_are_recorded_by_the_captain(chat) -> None:
    await chat.send("中心管理员", "项目 德耀北票")
    await chat.send("陈刚", "活动 明天上午9点 村文化广场 道德讲堂 项目:德耀北票")
    await chat.send("陈刚", "确认")
    assert "只有本队队长或管理员" in chat.last_to("刘农技", await chat.send("刘农技", "受益 #1 30人"))
    assert "受益 #活动号 人数" in chat.last_to("陈刚", await chat.send("陈刚", "受益 #1 很多"))
    assert "受益 45 人" in chat.last_to("陈刚", await chat.send("陈刚", "受益 #1 四十五人"))
    listing = chat.last_to("中心管理员", await chat.send("中心管理员", "项目"))
    assert "德耀北票（北票市新时代文明实践中心）活动 1 场，受益 45 人" in listing
