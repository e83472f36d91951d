"""统计: counts for the asker's scope — a subtree for admins, a team for captains, oneself otherwise."""

from __future__ import annotations

from sqlalchemy import func, select

from handlers.context import Context
from handlers.permissions import admin_units, captain_team_ids
from handlers.router import Router
from handlers.texts import STATUS_ZH, hours_text
from storage.models import LEVEL_ZH, HoursEntry, OrgUnit, Task, TaskAssignment, Team, TeamMember
from storage.network import in_subtree

router = Router("stats")


async def subtree_figures(ctx: Context, unit: OrgUnit) -> str:
    """Units per level, teams, volunteers, tasks by status and verified hours under one unit."""
    s = ctx.session
    units = dict((await s.execute(
        select(OrgUnit.level, func.count()).where(in_subtree(OrgUnit.path, unit.path), OrgUnit.id != unit.id)
        .group_by(OrgUnit.level)
    )).all())
    team_ids = select(Team.id).join(OrgUnit, OrgUnit.id == Team.org_unit_id).where(in_subtree(OrgUnit.path, unit.path))
    teams = (await s.execute(select(func.count()).select_from(team_ids.subquery()))).scalar_one()
    volunteers = (await s.execute(
        select(func.count(func.distinct(TeamMember.person_id))).where(TeamMember.team_id.in_(team_ids))
    )).scalar_one()
    tasks = dict((await s.execute(
        select(Task.status, func.count()).join(OrgUnit, OrgUnit.id == Task.org_unit_id)
        .where(in_subtree(OrgUnit.path, unit.path)).group_by(Task.status)
    )).all())
    hours = (await s.execute(
        select(func.coalesce(func.sum(HoursEntry.hours), 0))
        .join(Task, (HoursEntry.source_type == "task") & (HoursEntry.source_id == Task.id))
        .join(OrgUnit, OrgUnit.id == Task.org_unit_id).where(in_subtree(OrgUnit.path, unit.path))
    )).scalar_one()
    lines = [f"📊 {unit.name}"]
    level_line = "，".join(f"{LEVEL_ZH[lv]} {units[lv]}" for lv in ("institute", "station", "point", "center", "city") if units.get(lv))
    if level_line:
        lines.append(f"下辖：{level_line}")
    lines.append(f"队伍 {teams} 支，志愿者 {volunteers} 人")
    total = sum(tasks.values())
    detail = "，".join(f"{STATUS_ZH[k]} {tasks[k]}" for k in STATUS_ZH if tasks.get(k))
    lines.append(f"任务 {total} 个" + (f"（{detail}）" if detail else ""))
    lines.append(f"服务时长 {hours_text(hours)} 小时")
    return "\n".join(lines)


@router.command("统计", "/stats")
async def stats(ctx: Context, args: str) -> None:
    """Show the figures I may see; an admin may name a region inside their scope."""
    scopes = await admin_units(ctx)
    if scopes:
        target = scopes[0]
        if args:
            found = (await ctx.session.execute(
                select(OrgUnit).where((OrgUnit.code == args) | OrgUnit.name.contains(args, autoescape=True))
                .order_by(OrgUnit.path)
            )).scalars().all()
            inside = [u for u in found if any(u.path.startswith(sc.path) for sc in scopes)]
            if not inside:
                if found:
                    ctx.refuse(f"「{args}」不在您的管辖范围内，不能查看它的数据。", "stats", "org_unit", found[0].id)
                else:
                    ctx.reply(f"没有找到「{args}」。")
                return
            target = inside[0]
        ctx.audit("stats", "org_unit", target.id)
        ctx.reply(await subtree_figures(ctx, target))
        return
    lines = []
    for team_id in sorted(captain_team_ids(ctx)):
        team = await ctx.session.get(Team, team_id)
        members = (await ctx.session.execute(select(func.count()).where(TeamMember.team_id == team_id))).scalar_one()
        done = (await ctx.session.execute(
            select(func.count(func.distinct(TaskAssignment.task_id)))
            .join(Task, Task.id == TaskAssignment.task_id)
            .where(TaskAssignment.team_id == team_id, Task.status == "closed")
        )).scalar_one()
        lines.append(f"「{team.name if team else team_id}」队员 {members} 人，已完成任务 {done} 个")
    hours = (await ctx.session.execute(
        select(func.coalesce(func.sum(HoursEntry.hours), 0)).where(HoursEntry.volunteer_id == ctx.person.id)
    )).scalar_one()
    ordered = (await ctx.session.execute(select(func.count()).where(Task.resident_id == ctx.person.id))).scalar_one()
    lines.append(f"我：点单 {ordered} 次，志愿时长 {hours_text(hours)} 小时")
    ctx.reply("\n".join(lines))


__all__ = ["router", "subtree_figures"]
