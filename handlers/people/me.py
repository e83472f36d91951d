"""我的: what I ordered, what I took on, my hours and my points — one look at my own numbers."""

from __future__ import annotations

from handlers.core.context import Context
from handlers.core.router import Router
from handlers.core.texts import STATUS_ZH, hours_text, ref
from handlers.programmes.points import points_line
from storage.people.overview import overview

router = Router("me")


@router.command("我的", "/me", "/my", args=False)
async def mine(ctx: Context, args: str) -> None:
    """My tasks, hours and points."""
    lines = [f"{ctx.person.name}，您好："]
    # One query for all of it (it is among the commands sent most).
    own = await overview(ctx.session, ctx.person.id, limit=5)
    if own.ordered:
        lines.append("我点的服务：")
        lines += [f"  {ref(t.id)}【{t.category}】{STATUS_ZH.get(t.status, t.status)}" for t in own.ordered]
    if own.taken:
        lines.append("我接的任务：")
        lines += [f"  {ref(t.id)}【{t.category}】{STATUS_ZH.get(t.status, t.status)}" for t in own.taken]
    if ctx.person.is_volunteer or own.services:
        lines.append(f"志愿时长：{hours_text(own.hours)} 小时（{own.services} 次服务）")
    if (points := await points_line(ctx, read=own.points)) is not None:
        lines.append(points)
    if len(lines) == 1:
        lines.append("您还没有点单或接单。有什么需要，直接告诉我就行。")
    ctx.reply("\n".join(lines))
