"""派单: route a task to a team — automatically, by an admin, and by escalation up the levels.

Routing (PRODUCT.md §3) starts at the resident's station and searches the station, then the
institute, then the center for teams whose categories match; nearest level first, then the
team with the fewest open tasks. A task not accepted within its level's window moves up one
level and is offered to that level's teams too; at the center it is reported to the center
admins once a day until someone takes it. Nothing is silently stuck.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.notify import Notifier
from handlers.core.permissions import admin_over
from handlers.core.router import Router
from handlers.core.texts import mask_phones_in, ref, usage
from handlers.language.textnorm import parse_ref
from storage import audit
from storage.models import OrgUnit, Task, TaskStatus, Team
from storage.people.network import ancestors, teams_for_category
from storage.tasks.transitions import offer_task

router = Router("dispatch")

ROUTING_LEVELS = ("point", "station", "institute", "center")


@dataclass(frozen=True)
class Windows:
    """How long a task waits at each level before it escalates."""

    station: timedelta = timedelta(hours=2)
    institute: timedelta = timedelta(hours=4)
    center: timedelta = timedelta(hours=24)  # then reported daily to the center admins
    urgent: timedelta = timedelta(minutes=30)

    def at(self, level: str, urgent: bool) -> timedelta:
        """The window at a level."""
        if level == "center":
            return self.center
        if urgent:
            return self.urgent
        return self.institute if level == "institute" else self.station


DEFAULT_WINDOWS = Windows()


def accept_button(task_id: int) -> list[Button]:
    """The one-tap accept button sent with a new task."""
    return [Button("接单", f"接单 {ref(task_id)}")]


async def task_offer_text(session: AsyncSession, task: Task, level_unit: OrgUnit, escalated: bool) -> str:
    """The message a team gets for a task: no phone or address until someone accepts."""
    station = await session.get(OrgUnit, task.org_unit_id)
    head = "⬆️ 升级派单" if escalated else "📋 新任务"
    lines = [
        f"{head} {ref(task.id)}【{task.category}】{'（急）' if task.urgent else ''}",
        f"来自：{station.name if station else '未知'}",
        f"内容：{mask_phones_in(task.description, task.phone)}",
    ]
    if task.volunteers_needed > 1:
        lines.append(f"需要 {task.volunteers_needed} 人")
    lines.append(f"点「接单」或回复：接单 {ref(task.id)}")
    return "\n".join(lines)


async def _routing_chain(session: AsyncSession, task: Task) -> list[OrgUnit]:
    station = await session.get(OrgUnit, task.org_unit_id)
    if station is None:
        return []
    chain = [u for u in await ancestors(session, station) if u.level in ROUTING_LEVELS]
    return chain


async def auto_dispatch(
    session: AsyncSession, notifier: Notifier, task: Task, *, windows: Windows = DEFAULT_WINDOWS
) -> Team | None:
    """Offer a new task to the nearest matching team; tell the station admins if none exists."""
    now = notifier.now
    chain = await _routing_chain(session, task)
    for unit in chain:
        teams = await teams_for_category(session, unit.id, task.category)
        if not teams:
            continue
        team = teams[0][0]
        level = "station" if unit.level == "point" else unit.level
        if not await offer_task(
            session=session, task_id=task.id, team_ids=[team.id], level=level, now=now,
            window=windows.at(level, task.urgent),
        ):
            return None
        await session.refresh(task)
        text = await task_offer_text(session, task, unit, escalated=False)
        await notifier.team(team, text, accept_button(task.id), ref=f"task:{task.id}")
        audit.record(session, at=now, actor_id=None, action="dispatch", target_type="task",
                     target_id=task.id, team_id=team.id, level=level, auto=True)
        return team
    for unit in chain[:1]:
        await notifier.admins(unit, f"任务 {ref(task.id)}【{task.category}】在本站及上级都没有对口的队伍，请人工派单：派单 {ref(task.id)} <队伍名>")
    audit.record(session, at=now, actor_id=None, action="dispatch", target_type="task",
                 target_id=task.id, outcome="no_team")
    return None


@router.command("派单", "/dispatch")
async def dispatch_by_hand(ctx: Context, args: str) -> None:
    """Dispatch a task to a named team (admins, within their subtree)."""
    task_id = parse_ref(args.split()[0]) if args.split() else None
    team_query = " ".join(args.split()[1:])
    if task_id is None or not team_query:
        ctx.reply(usage("派单 #任务号 队伍名", "派单 #12 科技服务队"))
        return
    task = await ctx.session.get(Task, task_id)
    station = await ctx.session.get(OrgUnit, task.org_unit_id) if task else None
    if task is None or station is None:
        ctx.reply(f"没有找到任务 {ref(task_id)}。")
        return
    scope = await admin_over(ctx, station)
    if scope is None:
        ctx.refuse(f"只有{station.name}及其上级的管理员可以给任务 {ref(task_id)} 派单。", "dispatch", "task", task_id)
        return
    candidates = (await ctx.session.execute(
        select(Team, OrgUnit).join(OrgUnit, OrgUnit.id == Team.org_unit_id)
        .where((Team.code == team_query) | Team.name.contains(team_query, autoescape=True))
        .order_by(Team.id)
    )).all()
    inside = [(t, u) for t, u in candidates if u.path.startswith(scope.path)]
    if not inside:
        if candidates:
            ctx.refuse(f"「{team_query}」不在您管辖的{scope.name}范围内，不能派单给它。", "dispatch", "task", task_id)
        else:
            ctx.reply(f"没有找到名为「{team_query}」的队伍。")
        return
    if len(inside) > 1:
        names = "、".join(t.name for t, _ in inside[:5])
        ctx.reply(f"有几个队伍符合「{team_query}」：{names}。请写全队伍名。")
        return
    team, unit = inside[0]
    level = "station" if unit.level == "point" else unit.level
    ok = await offer_task(session=ctx.session, task_id=task.id, team_ids=[team.id], level=level, now=ctx.now,
                          window=DEFAULT_WINDOWS.at(level, task.urgent), by_person_id=ctx.person.id, replace=True)
    if not ok:
        ctx.reply(f"任务 {ref(task.id)} 已{'完成' if task.status in ('completed', 'closed') else '结束'}，不能再派单。")
        return
    await ctx.session.refresh(task)
    await ctx.notifier.team(team, await task_offer_text(ctx.session, task, unit, escalated=False),
                            accept_button(task.id), ref=f"task:{task.id}")
    ctx.audit("dispatch", "task", task.id, team_id=team.id, level=level)
    ctx.reply(f"已把任务 {ref(task.id)} 派给「{team.name}」。")


async def escalate_due(session: AsyncSession, now: datetime, windows: Windows = DEFAULT_WINDOWS) -> int:
    """Move every task whose window has run out one level up; returns how many moved.

    Each move is a compare-and-set on `escalate_at`, so running this twice, or on two
    workers, moves a task once.
    """
    due = (await session.execute(
        select(Task).where(Task.status == TaskStatus.dispatched.value, Task.escalate_at <= now)
        .order_by(Task.id)
    )).scalars().all()
    moved = 0
    for task in due:
        if await _escalate_one(session, task, now, windows):
            moved += 1
    return moved


async def _escalate_one(session: AsyncSession, task: Task, now: datetime, windows: Windows) -> bool:
    chain = await _routing_chain(session, task)
    levels = [("station" if u.level == "point" else u.level) for u in chain]
    current = task.dispatch_level or "station"
    idx = levels.index(current) if current in levels else 0
    notifier = Notifier(session, now)
    # Climb until a level has matching teams; the center is the top.
    for unit, level in list(zip(chain, levels))[idx + 1:]:
        teams = await teams_for_category(session, unit.id, task.category)
        if not teams and level != "center":
            continue
        if not await _claim(session, task, now, level, windows.at(level, task.urgent)):
            return False
        from storage.models import TaskOffer
        from storage.tasks.transitions import offered_team_ids

        already = set(await offered_team_ids(session=session, task_id=task.id))
        new_teams = [t for t, _ in teams if t.id not in already]
        for team in new_teams:
            session.add(TaskOffer(task_id=task.id, team_id=team.id, level=level, offered_at=now))
            text = await task_offer_text(session, task, unit, escalated=True)
            await notifier.team(team, text, accept_button(task.id), ref=f"task:{task.id}")
        note = f"任务 {ref(task.id)}【{task.category}】在下级超时未被接单，已升级到{unit.name}。"
        if not new_teams:
            note += f" 本级没有对口队伍，请人工派单：派单 {ref(task.id)} <队伍名>"
        await notifier.admins(unit, note)
        audit.record(session, at=now, actor_id=None, action="escalate", target_type="task",
                     target_id=task.id, level=level, teams=[t.id for t in new_teams])
        return True
    # Already at the top: re-arm the window and remind the center admins (daily report).
    top = chain[-1] if chain else None
    if not await _claim(session, task, now, current, windows.center):
        return False
    if top is not None:
        await notifier.admins(top, f"提醒：任务 {ref(task.id)}【{task.category}】仍无人接单，请尽快人工派单。")
    audit.record(session, at=now, actor_id=None, action="escalate_report", target_type="task", target_id=task.id)
    return True


async def _claim(session: AsyncSession, task: Task, now: datetime, level: str, window: timedelta) -> bool:
    result = await session.execute(
        update(Task)
        .where(Task.id == task.id, Task.status == TaskStatus.dispatched.value, Task.escalate_at == task.escalate_at)
        .values(dispatch_level=level, escalate_at=now + window)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1
