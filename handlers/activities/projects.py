"""项目 · 受益: admins create branded projects (周末文化广场, 德耀北票…) and see their figures.

A project belongs to an org unit; activities of teams at or below that unit can name it
("活动 … 项目:周末文化广场"). Its figures are its activities and the people they served,
which the captain records after an activity (受益 #3 30人).
"""

from __future__ import annotations

from handlers.activities.texts import aref, load_activity
from handlers.core.context import Context
from handlers.core.leadership import led_teams, may_lead
from handlers.core.permissions import admin_units
from handlers.core.router import Router
from handlers.core.texts import usage
from handlers.language.textnorm import parse_number
from storage.activities.activities import record_beneficiaries
from storage.activities.projects import (
    create_project,
    project_figures,
    projects_for_unit,
)
from storage.models import OrgUnit, Team

router = Router("projects")

MAX_NAME = 50
MAX_SERVED = 1_000_000


@router.command("项目", "/project")
async def project(ctx: Context, args: str) -> None:
    """List the projects in my scope (项目), or create one in my unit (项目 <名称>, admins)."""
    name = args.strip()
    if name:
        await _create(ctx, name)
    else:
        await _list(ctx)


async def _create(ctx: Context, name: str) -> None:
    scopes = sorted(await admin_units(ctx), key=lambda u: len(u.path))
    if not scopes:
        ctx.refuse("只有中心、所、站的管理员可以新建项目。", "project_create")
        return
    if len(name) > MAX_NAME or any(c in name for c in ":：#"):
        ctx.reply(f"项目名称请控制在 {MAX_NAME} 字以内，不要带「:」「#」。")
        return
    unit = scopes[0]
    created = await create_project(session=ctx.session, org_unit_id=unit.id, name=name, now=ctx.now,
                                   created_by_id=ctx.person.id)
    if created is None:
        ctx.reply(f"「{unit.name}」已经有「{name}」项目了。发送「项目」查看。")
        return
    await ctx.session.flush()
    ctx.audit("project_create", "project", created.id, org_unit_id=unit.id)
    ctx.reply(f"已在「{unit.name}」新建项目「{name}」。\n队长发布活动时写上「项目:{name}」，活动就归入这个项目。")


async def _list(ctx: Context) -> None:
    scopes = await admin_units(ctx)
    if scopes:
        figures = await project_figures(session=ctx.session, scopes=scopes)
    else:
        ids: set[int] = set()
        for team in await led_teams(ctx):
            unit = await ctx.session.get(OrgUnit, team.org_unit_id)
            if unit is not None:
                ids |= {p.id for p in await projects_for_unit(session=ctx.session, unit=unit)}
        figures = await project_figures(session=ctx.session, project_ids=sorted(ids)) if ids else []
    if not figures:
        tail = "新建：项目 名称" if scopes else "项目由中心、所、站的管理员新建。"
        ctx.reply("还没有项目。" + tail)
        return
    lines = ["志愿服务项目："]
    lines += [f"· {f.project.name}（{f.unit_name}）活动 {f.activities} 场，受益 {f.beneficiaries} 人" for f in figures]
    lines.append("活动归入项目：活动 … 项目:项目名　记录受益人数：受益 #活动号 人数")
    ctx.reply("\n".join(lines))


@router.command("受益", "/served")
async def served(ctx: Context, args: str) -> None:
    """Record how many people an activity served: 受益 #3 30人 (its captain or admins)."""
    activity = await load_activity(ctx, args, "受益 #活动号 人数", "受益 #3 30人")
    if activity is None:
        return
    team = await ctx.session.get(Team, activity.team_id)
    if team is None or not await may_lead(ctx, team):
        ctx.refuse("只有本队队长或管理员可以记录受益人数。", "record_beneficiaries", "activity", activity.id)
        return
    parts = args.split()
    count = parse_number(parts[1].rstrip("人名位")) if len(parts) > 1 else None
    if count is None or count != int(count) or not 0 <= count <= MAX_SERVED:
        ctx.reply(usage("受益 #活动号 人数", f"受益 #{activity.id} 30人"))
        return
    await record_beneficiaries(session=ctx.session, activity_id=activity.id, count=int(count))
    ctx.audit("record_beneficiaries", "activity", activity.id, count=int(count))
    ctx.reply(f"已记录{aref(activity.id)}【{activity.title}】受益 {int(count)} 人。")
