"""统计 [地区] [指标]: the data map in chat — an admin's subtree (or a unit inside it) in figures, a map and a chart.

Admins get the figures of their scope, or of a region they name inside it, from the maintained
aggregates (`storage.datamap.figures`); for a province, city or county a PNG map of the chosen
figure (志愿者 by default; 活跃, 任务, 时长 or 活动 as the last word) with the children ranked
beside it (`maps`), and a PNG chart of the children side by side and the last twelve months
(`charts`). A station admin naming another station is refused. Captains get their teams'
numbers and everyone else their own.
"""

from __future__ import annotations

import asyncio
import logging

from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.rights import admin_units, captained_team_ids
from handlers.core.router import Router
from handlers.core.texts import STATUS_ZH, hours_text
from handlers.datamap.charts import ChartUnavailable, render_chart
from handlers.datamap.maps import render_map, split_metric
from handlers.datamap.regions import RegionNotFound, find_region
from storage.datamap.choropleth import METRICS, UNIT_LEVEL, unit_map
from storage.datamap.figures import Figures, local_today
from storage.datamap.own_numbers import (
    hours_served,
    orders_placed,
    team_size,
    team_tasks_closed,
)
from storage.messaging.attachments import attach
from storage.models import LEVEL_ZH
from storage.people.network import teams_by_ids, teams_named, units_named

log = logging.getLogger(__name__)

router = Router("stats")

# A region or team name is at most this long (the org units' and teams' name column).
MAX_NAME = 200

WISH_ZH = {"submitted": "待发布", "published": "待认领", "claimed": "已认领", "fulfilled": "待确认", "confirmed": "已实现"}


def duration_text(minutes: int | None) -> str:
    """35 分钟 · 2 小时 10 分钟 · 1 天 3 小时."""
    if minutes is None:
        return "暂无"
    if minutes < 60:
        return f"{minutes} 分钟"
    if minutes < 1440:
        hours, rest = divmod(minutes, 60)
        return f"{hours} 小时" + (f" {rest} 分钟" if rest else "")
    days, rest = divmod(minutes, 1440)
    return f"{days} 天" + (f" {rest // 60} 小时" if rest // 60 else "")


def _counts(by_status: dict[str, int], names: dict[str, str]) -> str:
    return "，".join(f"{names[k]} {by_status[k]}" for k in names if by_status.get(k))


def figures_text(fig: Figures, as_of: str) -> str:
    """The figures as a short chat message."""
    lines = [f"📊 {fig.name}（截至 {as_of}）"]
    below = "，".join(f"{LEVEL_ZH[lv]} {fig.units[lv]}" for lv in ("city", "center", "institute", "station", "point")
                     if fig.units.get(lv))
    if below:
        lines.append(f"下辖：{below}")
    lines.append(f"队伍 {fig.teams} 支 · 志愿者 {fig.volunteers} 人（近30天服务过 {fig.active_volunteers} 人）")
    lines.append(f"项目 {fig.projects} 个 · 活动 {fig.activities} 场")
    detail = _counts(fig.tasks_by_status, STATUS_ZH)
    lines.append(f"任务 {fig.tasks} 个" + (f"（{detail}）" if detail else ""))
    lines.append(f"接单用时中位数 {duration_text(fig.median_accept_minutes)}")
    lines.append(f"服务时长 {hours_text(fig.hours)} 小时 · 受益群众 {fig.beneficiaries} 人次")
    wishes = _counts(fig.wishes_by_status, WISH_ZH)
    lines.append(f"微心愿 {fig.wishes} 个" + (f"（{wishes}）" if wishes else "")
                 + f" · 结对帮扶 {fig.pairings} 户，走访 {fig.pairing_visits} 次")
    if fig.months:
        month = fig.months[-1]
        lines.append(f"本月：任务 {month.tasks} 个，服务 {hours_text(month.hours)} 小时，活动 {month.activities} 场，"
                     f"新志愿者 {month.volunteers_new} 人")
    return "\n".join(lines)


async def admin_stats(ctx: Context, args: str) -> None:
    """Figures, a map and a chart for the admin's scope or a region inside it."""
    region, metric = split_metric(args)
    unit = await find_region(ctx.act, region, "stats")
    if isinstance(unit, Refused):
        ctx.reply(unit.reason)
        return
    if isinstance(unit, RegionNotFound):
        ctx.reply(unit.text)
        return
    drawn = await unit_map(ctx.session, unit, ctx.now)
    fig, kids = drawn.unit, drawn.children
    today = local_today(ctx.now)
    as_of = f"{today.month}月{today.day}日"
    ctx.audit("stats", "org_unit", unit.id)
    text = figures_text(fig, as_of)
    wants_map = unit.level in UNIT_LEVEL
    try:
        # Off the event loop: rendering takes a few hundred milliseconds.
        png = await asyncio.to_thread(render_chart, fig, kids, as_of)
        map_png = await asyncio.to_thread(render_map, drawn, metric, as_of) if drawn.available else None
    except ChartUnavailable as exc:
        log.warning("stats chart skipped: %s", exc)
        ctx.reply(text + "\n（图表暂不可用：服务器没有安装中文字体。）")
        return
    label, _ = METRICS[metric]
    if map_png is not None:
        shown = "📍 地图：所在位置和下级单位排名" if drawn.kind == "county" else f"🗺 地图：下级地区{label}"
        text += f"\n{shown}（发「统计 {region or unit.name} 任务/时长/活动」换指标）；📈 图表：下级单位对比和近十二个月走势。"
    else:
        if wants_map and drawn.note:
            text += f"\n（没有地图：{drawn.note.split('，')[0].rstrip('。')}。）"
        text += "\n📈 图表见下图：下级单位对比和近十二个月走势。"
    row = ctx.reply(text)
    if map_png is not None:
        await attach(ctx.session, row, kind="photo", filename="map.png", mime="image/png", data=map_png, now=ctx.now)
    await attach(ctx.session, row, kind="photo", filename="chart.png", mime="image/png", data=png, now=ctx.now)


@router.command("统计", "/stats")
async def stats(ctx: Context, args: str) -> None:
    """Show the figures I may see; an admin may name a region inside their scope."""
    if await admin_units(ctx.act):
        await admin_stats(ctx, args)
        return
    lines = []
    teams = {t.id: t for t in await teams_by_ids(ctx.session, sorted(await captained_team_ids(ctx.act)))}
    for team_id in sorted(await captained_team_ids(ctx.act)):
        team = teams.get(team_id)
        members = await team_size(ctx.session, team_id)
        done = await team_tasks_closed(ctx.session, team_id)
        lines.append(f"「{team.name if team else team_id}」队员 {members} 人，已完成任务 {done} 个")
    hours = await hours_served(ctx.session, ctx.person.id)
    ordered = await orders_placed(ctx.session, ctx.person.id)
    lines.append(f"我：点单 {ordered} 次，志愿时长 {hours_text(hours)} 小时")
    if args:
        lines.append("（地区的数据只有该地区的站长、所长和中心管理员可以查看。）")
        await _audit_region_refusal(ctx, args)
    ctx.reply("\n".join(lines))


async def _audit_region_refusal(ctx: Context, args: str) -> None:
    """Record a non-admin's 统计 of a region or a team they do not lead, with what they named as its target."""
    region, _ = split_metric(args)
    name = region.strip()[:MAX_NAME] or args.strip()[:MAX_NAME]
    reason = "地区的数据只有该地区的站长、所长和中心管理员可以查看。"
    units = await units_named(ctx.session, name) if name else []
    if units:
        ctx.audit("stats", "org_unit", units[0].id, outcome="refused", reason=reason, region=name)
        return
    led = await captained_team_ids(ctx.act)
    teams = [t for t in await teams_named(ctx.session, name) if t.id not in led] if name else []
    if teams:
        ctx.audit("stats", "team", teams[0].id, outcome="refused", reason="只能查看自己带的队伍的数据。", region=name)
    elif name and not any(t.name == name or t.code == name for t in await teams_by_ids(ctx.session, sorted(led))):
        ctx.audit("stats", None, None, outcome="refused", reason=reason, region=name)


__all__ = ["duration_text", "figures_text", "router"]
