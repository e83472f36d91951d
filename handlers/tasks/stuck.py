"""Tasks waiting longer than their window, and why (`xinfeng tasks stuck`, `xinfeng jobs list`).

docs/tasks.md: nothing waits silently. A task is listed when nobody has taken it and its
window has run out without it moving (the scheduler is not running), when it has reached the
top and is still unaccepted, when nobody at all could be told about it, or when it never had
a window (a task from before ownership was kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.core.texts import STATUS_ZH
from handlers.tasks.texts import holder, team_names
from storage.db import Session, load
from storage.models import Person, Task
from storage.people.network import get_unit, teams_by_ids
from storage.tasks.queries import stuck_tasks
from storage.tasks.transitions import offered_team_ids

# A window that ran out less than this ago is the next tick's business, not a stuck task: the
# scheduler ticks every minute and takes a bounded batch (handlers.tasks.dispatch.BATCH) a tick.
GRACE = timedelta(minutes=5)


@dataclass(frozen=True)
class Stuck:
    """One task that waits too long: where it is from, who has it, how long, and why it is listed."""

    task_id: int
    since: datetime  # when it should have moved (or was ordered, when it never had a window)
    village: str
    category: str
    status: str
    waited_hours: float
    holder: str
    why: str

    def line(self) -> str:
        """The task as one line of a listing."""
        return (f"#{self.task_id} {self.village}【{self.category}】{self.status}，已等 {self.waited_hours:g} 小时；"
                f"在：{self.holder}；原因：{self.why}")


def _minutes(delta_seconds: float) -> int:
    return max(0, int(delta_seconds // 60))


async def _holder(session: Session, task: Task) -> str:
    """Who has the task now, in words: its teams, its admin, or nobody."""
    parts = []
    teams = await teams_by_ids(session, await offered_team_ids(session=session, task_id=task.id))
    if teams:
        parts.append(team_names(teams))
    owner = await load(session, Person, task.owner_id) if task.owner_id else None
    unit = await get_unit(session, task.owner_unit_id) if task.owner_unit_id else None
    if owner is not None:
        parts.append(holder(unit, [owner]) if unit is not None else owner.name)
    return "、".join(parts) or "没有人"


def _why(task: Task, now: datetime, nobody: bool) -> str:
    """Why a task is listed."""
    if task.escalate_at is None:
        return "没有等待时限，不会自动升级（请人工派单）"
    if task.stuck_since is not None:
        if nobody:
            return "沿途没有任何队伍和管理员可以通知，请在名册里补上站长或队伍"
        return "已报到最高一级仍无人接单，请人工派单"
    late = _minutes((now - task.escalate_at).total_seconds())
    return f"等待时限已过 {late} 分钟仍未升级（调度器没有运行？）"


async def stuck_report(session: Session, now: datetime, *, limit: int = 500) -> list[Stuck]:
    """Every open, untaken task waiting longer than its window (and the grace of a few ticks), oldest first."""
    found = []
    for task in await stuck_tasks(session, now - GRACE, limit=limit):
        station = await get_unit(session, task.org_unit_id)
        who = await _holder(session, task)
        found.append(Stuck(
            task_id=task.id, since=task.escalate_at or task.created_at,
            village=station.name if station else "未知", category=task.category,
            status=("🚨紧急 " if task.emergency else "") + STATUS_ZH.get(task.status, task.status),
            waited_hours=round((now - task.created_at).total_seconds() / 3600, 1),
            holder=who, why=_why(task, now, who == "没有人"),
        ))
    return found
