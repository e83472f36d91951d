"""心愿 #n shows a wish only to whom docs/roles.md allows (issue 12): a leak, refused as if absent.

Before, `心愿 #n` showed any wish — unpublished, from another city — to anyone.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry, OrgUnit, Person, RoleGrant, Team, TeamMember


async def _setup(chat) -> None:
    """A federation admin for the county, and a volunteer of another city (朝阳市) with her team."""
    async with chat.sessions() as s:
        fed = Person(name="联合会", org_unit_id=chat.ids["BP"], created_at=chat.clock.now())
        city = OrgUnit(code="CY", name="朝阳市新时代文明实践中心", level="center", parent_id=chat.ids["LN"])
        s.add_all([fed, city])
        await s.flush()
        city.path = f"{(await s.get(OrgUnit, chat.ids['LN'])).path}{city.id}/"
        team = Team(code="CYD", name="朝阳志愿服务队", org_unit_id=city.id, categories="|助老助残|", invite_code="CY2026")
        far = Person(name="朝阳志愿", org_unit_id=city.id, is_volunteer=True, created_at=chat.clock.now())
        s.add_all([team, far, RoleGrant(person_id=fed.id, role="federation_admin", org_unit_id=chat.ids["BP"])])
        await s.flush()
        s.add(TeamMember(team_id=team.id, person_id=far.id))
        await s.commit()
        chat.ids.update({"联合会": fed.id, "朝阳志愿": far.id})


async def test_a_wish_is_seen_only_where_it_belongs(chat) -> None:
    await _setup(chat)
    await chat.send("蓬莱站长", "心愿 王大娘 想要一台收音机")
    absent = chat.last_to("赵志愿", await chat.send("赵志愿", "心愿 #9"))
    # Unpublished: its submitter and the admins see it; a volunteer is told exactly what "absent" says.
    assert "收音机" in chat.last_to("蓬莱站长", await chat.send("蓬莱站长", "心愿 #1"))
    hidden = chat.last_to("赵志愿", await chat.send("赵志愿", "心愿 #1"))
    assert "收音机" not in hidden and hidden.replace("#1", "#9") == absent
    await chat.send("联合会", "发布心愿 #1")
    # Published: a volunteer of the county sees it; one of another city and a villager do not.
    assert "收音机" in chat.last_to("赵志愿", await chat.send("赵志愿", "心愿 #1"))
    assert "收音机" in chat.last_to("周台吉", await chat.send("周台吉", "心愿 #1"))
    assert "收音机" not in chat.last_to("朝阳志愿", await chat.send("朝阳志愿", "心愿 #1"))
    assert "收音机" not in chat.last_to("李大爷", await chat.send("李大爷", "心愿 #1"))
    # Nor may the far volunteer claim it.
    assert "不是您所在县市" in chat.last_to("朝阳志愿", await chat.send("朝阳志愿", "认领 #1"))
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.outcome == "refused")
                                   .order_by(AuditEntry.id))).scalars().all()
    assert [(a.action, a.actor_id, a.target_type, a.target_id) for a in refused] == [
        ("wish_view", chat.ids["赵志愿"], "wish", 1), ("wish_view", chat.ids["朝阳志愿"], "wish", 1),
        ("wish_view", chat.ids["李大爷"], "wish", 1), ("wish_claim", chat.ids["朝阳志愿"], "wish", 1)]
