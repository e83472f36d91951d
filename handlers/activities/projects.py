"""项目 · 受益: admins create branded projects (周末文化广场, 德耀北票…) and see their figures.

A project belongs to an org unit; activities of teams at or below that unit can name it
("活动 … 项目:周末文化广场"). Its figures are its activities and the people they served,
which the captain records after an activity (受益 #3 30人).
"""

from __future__ import annotations

from handlers.activities.actions.projects import (
    MAX_NAME,
    Problem,
    create_project,
    record_beneficiaries,
)
from handlers.activities.texts import aref, load_activity
from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.rights import admin_units, led_teams
from handlers.core.router import Router
from handlers.core.texts import usage
from handlers.language.textnorm import parse_number
from storage.activities.projects import project_figures, projects_for_unit
from storage.people.network import get_unit

router = Router("projects")


@router.command("项目", "/project")
async def project(ctx: Context, args: str) -> None:
    """List the projects in my scope (项目), or create one in my unit (项目 <名称>, admins)."""
    name = args.strip()
    if name:
        await _create(ctx, name)
    else:
        await _list(ctx)


async def _create(ctx: Context, name: str) -> None:
    outcome = await create_project(ctx.act, name=name)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif outcome.unit is None:  # Problem.bad_name: no unit was chosen
        ctx.reply(f"项目名称请控制在 {MAX_NAME} 字以内，不要带「:」「#」。")
    elif outcome.problem is Problem.exists:
        ctx.reply(f"「{outcome.unit.name}」已经有「{name}」项目了。发送「项目」查看。")
    else:
        ctx.reply(f"已在「{outcome.unit.name}」新建项目「{name}」。\n队长发布活动时写上「项目:{name}」，活动就归入这个项目。")


async def _list(ctx: Context) -> None:
    scopes = await admin_units(ctx.act)
    if scopes:
        figures = await project_figures(session=ctx.session, scopes=scopes)
    else:
        ids: set[int] = set()
        for team in await led_teams(ctx.act):
            unit = await get_unit(ctx.session, team.org_unit_id)
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
    parts = args.split()
    count = parse_number(parts[1].rstrip("人名位")) if len(parts) > 1 else None
    hint = usage("受益 #活动号 人数", f"受益 #{activity.id} 30人")
    if count is None or count != int(count):
        ctx.reply(hint)
        return
    recorded = await record_beneficiaries(ctx.act, activity=activity, count=int(count))
    if isinstance(recorded, Refused):
        ctx.reply(recorded.reason)
    elif isinstance(recorded, Problem):
        ctx.reply(hint)
    else:
        ctx.reply(f"已记录{aref(activity.id)}【{activity.title}】受益 {recorded} 人。")
