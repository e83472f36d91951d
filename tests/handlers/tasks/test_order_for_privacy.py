"""代点单 <手机号> by someone who may order for nobody reveals nothing (issue 12): not whether, not where.

Before, any user learned which village a phone belonged to from the refusal.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry


async def test_a_volunteer_learns_nothing_about_a_phone(chat) -> None:
    known = chat.last_to("赵志愿", await chat.send("赵志愿", "代点单 13900000002 想理发"))  # 李大爷, 台吉村
    unknown = chat.last_to("赵志愿", await chat.send("赵志愿", "代点单 13911112222 想理发"))
    assert known == unknown and "台吉" not in known and "李大爷" not in known
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.action == "order_for"))).scalars().all()
    assert [(a.outcome, a.actor_id) for a in refused] == [("refused", chat.ids["赵志愿"])] * 2


async def test_an_admin_of_another_village_is_refused_with_the_resident_as_target(chat) -> None:
    out = await chat.send("蓬莱站长", "代点单 13900000002 想理发")
    assert "可以代这位居民点单" in chat.last_to("蓬莱站长", out)
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.action == "order_for"))).scalar_one()
    assert (refused.outcome, refused.target_type, refused.target_id) == ("refused", "person", chat.ids["李大爷"])
