"""注册 and 加入: a resident sets their village; a volunteer joins a team by invite code.

Village names are matched loosely ("杨家村" finds "杨家村新时代文明实践站"); a near miss
gets suggestions rather than a flat "not found".
"""

from __future__ import annotations

from sqlalchemy import func, select

from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.places import find_villages
from handlers.core.router import Router
from handlers.core.texts import usage
from storage.models import ChannelIdentity, Person, RoleGrant, Team, TeamMember
from storage.people.identities import link_identity

router = Router("registration")

@router.command("注册", "/register")
async def register(ctx: Context, args: str) -> None:
    """Set the village (station) I live in."""
    if not args:
        ctx.reply(usage("注册 村名", "注册 杨家村"))
        return
    hits, near = await find_villages(ctx.session, args)
    if not hits:
        if near:
            ctx.reply("没有找到「%s」。您是说：" % args, [Button(u.name, f"注册 {u.code}") for u in near])
        else:
            ctx.reply(f"没有找到「{args}」。请检查村名，或问问村里的文明实践站站长。")
        return
    if len(hits) > 1:
        ctx.reply(f"有 {len(hits)} 个地方符合「{args}」，请选择：",
                  [Button(u.name, f"注册 {u.code}") for u in hits[:8]])
        return
    unit = hits[0]
    ctx.person.org_unit_id = unit.id
    ctx.person.is_resident = True
    ctx.audit("register", "org_unit", unit.id)
    ctx.reply(f"好的，{ctx.person.name}，已登记您在「{unit.name}」。有什么需要，直接告诉我就行，比如：家里水管冻裂了，需要人帮忙修。")
    pending = await ctx.state.get(ctx.state_key)
    if pending and pending.get("awaiting") == "register_first" and pending.get("request"):
        from handlers.tasks.intake import start_draft

        await ctx.session.flush()
        await start_draft(ctx, pending["request"], written=pending.get("written"))


async def join_team(ctx: Context, args: str) -> None:
    """Join a team with its invite code; a roster name links this chat account to that row."""
    code, _, name = args.strip().partition(" ")
    if not code:
        ctx.reply(usage("加入 邀请码 [您的姓名]", "加入 KJ2026 张三"))
        return
    team = (await ctx.session.execute(
        select(Team).where(func.upper(Team.invite_code) == code.upper())
    )).scalar_one_or_none()
    if team is None:
        ctx.refuse("邀请码不对，请向队长确认后再试。", "join", "team")
        return
    person = ctx.person
    name = name.strip()
    if name and name != person.name:
        roster = await _roster_member(ctx, team, name)
        if roster is not None:
            await link_identity(ctx.session, platform=ctx.message.platform, external_id=ctx.message.user_id,
                                person_id=roster.id, now=ctx.now)
            ctx.audit("link_identity", "person", roster.id, platform=ctx.message.platform)
            person = roster
    member = await ctx.session.get(TeamMember, (team.id, person.id))
    if member is not None:
        ctx.reply(f"{person.name}，您已经是「{team.name}」的队员了。")
        return
    ctx.session.add(TeamMember(team_id=team.id, person_id=person.id))
    person.is_volunteer = True
    ctx.audit("join", "team", team.id, person_id=person.id)
    ctx.reply(f"欢迎 {person.name} 加入「{team.name}」！有新任务时我会通知您，点「接单」就能接。发送 帮助 查看怎么用。")
    captains = (await ctx.session.execute(
        select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
        .where(RoleGrant.role == "captain", RoleGrant.team_id == team.id)
    )).scalars().all()
    for captain in captains:
        if captain.id != person.id:
            await ctx.notify(captain, f"新队员 {person.name} 加入了「{team.name}」。")


async def _roster_member(ctx: Context, team: Team, name: str) -> Person | None:
    """A team member of that name not yet linked to an account on this platform."""
    linked = select(ChannelIdentity.person_id).where(ChannelIdentity.platform == ctx.message.platform)
    stmt = (
        select(Person).join(TeamMember, TeamMember.person_id == Person.id)
        .where(TeamMember.team_id == team.id, Person.name == name, Person.id.not_in(linked))
        .order_by(Person.id)
    )
    return (await ctx.session.execute(stmt)).scalars().first()


@router.command("加入", "/join")
async def join(ctx: Context, args: str) -> None:
    """Join a team: 加入 <邀请码> [姓名]."""
    await join_team(ctx, args)


@router.command("/start")
async def start(ctx: Context, args: str) -> None:
    """Greet a new chat; a deep link `start join_<invite>` joins a team at once."""
    if args.startswith("join_"):
        await join_team(ctx, args.removeprefix("join_").replace("_", " ", 1))
        return
    from handlers.people.help import help_text

    ctx.reply("您好，我是新风志愿服务助手！\n" + help_text(ctx))

