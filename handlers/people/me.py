"""我的: what I ordered, what I took on, my hours and my points — one look at my own numbers."""

from __future__ import annotations

from handlers.core.context import Context
from handlers.core.router import Router
from handlers.core.texts import STATUS_ZH, hours_text, ref
from handlers.programmes.points import points_line
from storage.tasks.hours import total_hours
from storage.tasks.queries import tasks_ordered_by, tasks_taken_by

router = Router("me")


@router.command("我的", "/me", "/my", args=False)
async def mine(ctx: Context, args: str) -> None:
    """My tasks, hours and points."""
    lines = [f"{ctx.person.name}，您好："]
    ordered = await tasks_ordered_by(ctx.session, ctx.person.id, limit=5)
    if ordered:
        lines.append("我点的服务：")
        lines += [f"  {ref(t.id)}【{t.category}】{STATUS_ZH.get(t.status, t.status)}" for t in ordered]
    assigned = await tasks_taken_by(ctx.session, ctx.person.id, limit=5)
    if assigned:
        lines.append("我接的任务：")
        lines += [f"  {ref(t.id)}【{t.category}】{STATUS_ZH.get(t.status, t.status)}" for t in assigned]
    total, count = await total_hours(session=ctx.session, volunteer_id=ctx.person.id)
    if ctx.person.is_volunteer or count:
        lines.append(f"志愿时长：{hours_text(total)} 小时（{count} 次服务）")
    if (points := await points_line(ctx)) is not None:
        lines.append(points)
    if len(lines) == 1:
        lines.append("您还没有点单或接单。有什么需要，直接告诉我就行。")
    ctx.reply("\n".join(lines))
