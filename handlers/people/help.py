"""帮助: the commands this person can use, by role."""

from __future__ import annotations

from handlers.core.context import Context
from handlers.core.router import Router

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
    "验证码 六位数字 — 换了账号时，用发到旧账号的验证码证明是本人",
    "接单 #号 · 放弃 #号 · 完成 #号 2小时",
    "积分 — 我的积分、明细和兑换码 · 爱心超市 — 能兑换什么",
    "认领 #心愿号 · 实现 #心愿号（附照片） — 微心愿",
    "走访 户名 情况 · 结对 — 结对帮扶",
    "活动 — 近期活动 · 报名 #活动号 · 取消报名 #活动号",
    "签到 #活动号 签到码 · 签退 #活动号",
    "免打扰 · 开启通知 — 关掉/打开广播和新任务的私信",
]
CAPTAIN = [
    "活动 周六上午9点 村文化广场 包饺子 限20人 — 发布活动（可加 项目:名称）",
    "广播 内容 — 发给全队",
    "绑定客户群 群名 — （企业微信里）把您做群主的微信群绑到本队，广播会生成群发待您确认",
    "核时 #活动号 [全部 | 姓名 2小时]（核过的也可更正）· 撤销缺席 #活动号 姓名 · 受益 #活动号 人数",
    "改期 #活动号 新时间 · 取消活动 #活动号 [原因] — 报名的人都会收到通知",
    "邀请码 [队伍名] — 新队员入队用的邀请码、链接和二维码",
    "换邀请码 [队伍名] — 旧邀请码作废，换一个新的",
    "同意绑定 #申请号 · 拒绝绑定 #申请号 — 有人要以队员身份绑定账号时确认",
    "核准时长 #任务号 姓名 14小时 — 核准超过每天上限的服务时长",
]
ADMIN = [
    "派单 #号 队伍名 — 人工派单",
    "改类别 #号 类别 — 改任务的类别（还没人接的会重新派单）",
    "代点单 手机号 需求 — 替居民点单",
    "取消 #号 — 取消本辖区的任务",
    "统计 [地区] — 本辖区的数据和图表",
    "导出 工时|任务|志愿者|活动 [地区] [日期] — 导出表格",
    "后台 — 数据地图网页的登录链接",
    "心愿 户名 内容 · 确认心愿 #号 — 代群众提交、确认微心愿",
    "积分规则 [每小时积分] — 查看或设置本辖区的积分规则",
    "项目 [名称] — 查看或新建志愿服务项目",
    "道德日 [每月5日 8点] — 查看或设置本辖区的道德活动日",
]
SHOPKEEPER = ["上架 商品 积分 库存 · 兑换 兑换码 商品 [数量] — 爱心超市"]
FEDERATION = ["发布心愿 #号 — 发布微心愿 · 心愿 — 查看微心愿"]


def help_text(ctx: Context) -> str:
    """The help text for this person's roles."""
    held = {g.role for g in ctx.roles}  # the roles the engine loaded for this message
    lines = ["我能帮您："] + [f"· {s}" for s in RESIDENT]
    if ctx.person.is_volunteer or "captain" in held:
        lines += ["志愿者：", *[f"· {s}" for s in VOLUNTEER]]
    if "captain" in held or "admin" in held:
        lines += ["队长：", *[f"· {s}" for s in CAPTAIN]]
    if "admin" in held or "first_secretary" in held:
        lines += ["管理员：", *[f"· {s}" for s in ADMIN]]
    else:
        lines.append("· 统计 — 我的数据")
    for role, title, commands in (("shopkeeper", "店长：", SHOPKEEPER), ("federation_admin", "志愿服务联合会：", FEDERATION)):
        if role in held:
            lines += [title, *[f"· {s}" for s in commands]]
    lines.append("任务号可以写成 #12、12号；时长可以写成 2小时、两个半小时。")
    return "\n".join(lines)


@router.command("帮助", "/help", "help", "?", "？", args=False)
async def show_help(ctx: Context, args: str) -> None:
    """Show what I can do."""
    ctx.reply(help_text(ctx))
