"""The permission matrix (issue 12), generated from docs/roles.md: role × action, outside the role's scope.

Each row of §2's table names who may do an action and where; here every role that may *not* do
it there — a resident, a volunteer, a captain of another team, a station admin of another
village, a federation admin — tries it on a target outside their scope. Every attempt must be
refused with a polite reply (never the generic apology), change nothing the target holds, and
leave one audit row `refused` naming the actor, the action and the target.

Targets, staged once: task #1 (李大爷, 台吉村, offered to 台吉村志愿服务队), activity #1
(陈刚's 科技服务队, at the county), wish #1 (李大爷, 台吉村, submitted, not yet published),
link request #1 (a stranger asking to be 周台吉 of 台吉村志愿服务队).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.core.engine import SORRY
from storage.models import AuditEntry, Person, RoleGrant

# docs/roles.md: action → the roles that may do it (and where). Each case below is a role the
# row leaves out, or a role acting outside its scope: (who, what they send, audit action, target).
MATRIX: dict[str, list[tuple[str, str, str, tuple[str, str | int] | None]]] = {
    "order on behalf (代点单)": [
        ("蓬莱站长", "代点单 13900000002 想理发", "order_for", ("person", "李大爷")),
    ],
    "accept / release / complete a task": [
        ("赵志愿", "接单 #1", "accept", ("task", 1)),       # a volunteer of a team it was not offered to
        ("陈刚", "接单 #1", "accept", ("task", 1)),         # a captain of another team
        ("赵志愿", "放弃 #1", "release", ("task", 1)),
        ("赵志愿", "完成 #1 2小时", "complete", ("task", 1)),
    ],
    "dispatch / re-dispatch / cancel": [
        ("赵志愿", "派单 #1 台吉村志愿服务队", "dispatch", ("task", 1)),
        ("蓬莱站长", "派单 #1 蓬莱社区志愿服务队", "dispatch", ("task", 1)),  # an admin of another village
        ("王大娘", "取消 #1", "cancel", ("task", 1)),                        # not her task
        ("蓬莱站长", "取消 #1", "cancel", ("task", 1)),
    ],
    "verify hours, mark no-show": [
        ("周台吉", "核时 #1 全部", "verify_hours", ("activity", 1)),    # a volunteer
        ("周台吉", "撤销缺席 #1 姜兆彤", "undo_no_show", ("activity", 1)),
        ("周台吉", "取消活动 #1", "activity_cancel", ("activity", 1)),
        ("蓬莱站长", "核时 #1 全部", "verify_hours", ("activity", 1)),  # an admin below the activity's unit
    ],
    "submit / publish / claim a wish": [
        ("蓬莱站长", "发布心愿 #1", "wish_publish", ("wish", 1)),
        ("城关联合会", "发布心愿 #1", "wish_publish", ("wish", 1)),  # a federation admin of another area
        ("王大娘", "认领 #1", "wish_claim", ("wish", 1)),
        ("赵志愿", "心愿 #1", "wish_view", ("wish", 1)),  # not published yet: not a volunteer's to see
    ],
    "stats / export": [
        ("赵志愿", "统计 台吉村", "stats", ("org_unit", "TJC")),
        ("陈刚", "统计 台吉村志愿服务队", "stats", ("team", "TJD")),
        ("蓬莱站长", "统计 台吉村", "stats", ("org_unit", "TJC")),
        ("蓬莱站长", "导出 工时 台吉村", "export", ("org_unit", "TJC")),
    ],
    "team actions (invite codes, join requests)": [
        ("陈刚", "换邀请码 台吉村志愿服务队", "invite_rotate", ("team", "TJD")),
        ("周台吉", "广播 明天集合", "broadcast", ("team", "TJD")),  # a volunteer, to her own team
        ("周台吉", "换邀请码", "invite_rotate", ("team", "TJD")),
    ],
    "create activity, broadcast to team": [
        ("周台吉", "活动 明天上午10点 村口 包饺子 限5人", "activity_create", ("team", "TJD")),
        ("蓬莱站长", "邀请码 台吉村志愿服务队", "invite", ("team", "TJD")),
        ("陈刚", "同意绑定 #1", "link_approve", ("link_request", 1)),
        ("周台吉", "同意绑定 #1", "link_approve", ("link_request", 1)),  # a volunteer, even of that team
    ],
}
CASES = [(row, *case) for row, cases in MATRIX.items() for case in cases]


async def _stage(chat) -> None:
    await chat.send("李大爷", "奶奶八十多了，想请人来帮忙理个发")
    await chat.send("李大爷", "确认")
    await chat.send("陈刚", "活动 今天上午10点 村文化广场 包饺子 限5人")
    await chat.send("陈刚", "确认")
    await chat.send("台吉站长", "心愿 李大爷 想要一台收音机")
    await chat.send("陌生人", "加入 TJD2026 周台吉")
    async with chat.sessions() as s:
        fed = Person(name="城关联合会", org_unit_id=chat.ids["CG"], created_at=chat.clock.now())
        s.add(fed)
        await s.flush()
        s.add(RoleGrant(person_id=fed.id, role="federation_admin", org_unit_id=chat.ids["CG"]))
        await s.commit()
        chat.ids["城关联合会"] = fed.id


@pytest.mark.parametrize("row,who,text,action,target", CASES, ids=[f"{c[0]}: {c[1]} {c[2]}" for c in CASES])
async def test_outside_scope_is_refused_and_audited_with_its_target(chat, row, who, text, action, target) -> None:
    await _stage(chat)
    async with chat.sessions() as s:
        last = (await s.execute(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))).scalar() or 0
    out = await chat.send(who, text)
    reply = chat.last_to(who, out)
    assert SORRY not in reply and reply.strip()
    async with chat.sessions() as s:
        new = (await s.execute(select(AuditEntry).where(AuditEntry.id > last))).scalars().all()
    refused = [a for a in new if a.outcome == "refused"]
    assert [a for a in new if a.outcome != "refused" and a.action == action] == [], "it went through"
    assert [(a.actor_id, a.action) for a in refused] == [(chat.ids[who], action)], reply
    kind, ident = target
    expected = chat.ids[ident] if isinstance(ident, str) else ident
    assert (refused[0].target_type, refused[0].target_id) == (kind, expected)
    assert refused[0].detail.get("reason"), "a refusal says why"


async def test_the_matrix_covers_every_row_of_product_section_2() -> None:
    """Each §2 row with a scope (and the team actions beside them) is tried from outside it (the rows without one — ordering, redeeming — have none)."""
    assert len(MATRIX) == 8 and len(CASES) >= 27
