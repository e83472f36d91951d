"""帮助: the commands this person can use, by role."""

from __future__ import annotations

from handlers.context import Context
from handlers.permissions import captain_team_ids, has_role
from handlers.router import Router

router = Router("help")

RESIDENT = [
    "直接说您需要什么，例如：我爸血压高，想请医生来家里看看",
    "注册 村名 — 登记您住的村/社区",
    "我的 — 我的任务和进度",
    "评价 #号 1-5 [话] — 给服务打分",
    "取消 #号 — 取消还没人接的任务",
]
VOLUNTEER = [
    "加入 邀请码 [姓名] — 加入志愿服务队",
    "接单 #号 · 放弃 #号 · 完成 #号 2小时",
]
ADMIN = [
    "派单 #号 队伍名 — 人工派单",
    "代点单 手机号 需求 — 替居民点单",
    "取消 #号 — 取消本辖区的任务",
    "统计 [地区] — 本辖区的数据",
]


def help_text(ctx: Context) -> str:
    """The help text for this person's roles."""
    lines = ["我能帮您："] + [f"· {s}" for s in RESIDENT]
    if ctx.person.is_volunteer or captain_team_ids(ctx):
        lines += ["志愿者：", *[f"· {s}" for s in VOLUNTEER]]
    if has_role(ctx, "admin") or has_role(ctx, "first_secretary"):
        lines += ["管理员：", *[f"· {s}" for s in ADMIN]]
    else:
        lines.append("· 统计 — 我的数据")
    lines.append("任务号可以写成 #12、12号；时长可以写成 2小时、两个半小时。")
    return "\n".join(lines)


@router.command("帮助", "/help", "help", "?", "？", args=False)
async def show_help(ctx: Context, args: str) -> None:
    """Show what I can do."""
    ctx.reply(help_text(ctx))
