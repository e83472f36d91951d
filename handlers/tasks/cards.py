"""The task card in team groups, kept truthful: who took it, and a button only while places are open.

A task offered to a team is posted in the team's bound groups with an 「接单」 button. When
someone takes it (or gives it back, or it is cancelled) the cards already posted are edited
rather than followed by yet another message, so a group never shows a button for a task that
is gone; a press on a card the edit has not reached yet still gets the polite "taken" answer.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.notify import Notifier
from handlers.tasks.dispatch import accept_button, task_offer_text
from storage.models import OrgUnit, Person, Task, TaskAssignment, TaskStatus


async def assignee_names(session: AsyncSession, task_id: int) -> list[str]:
    """The names of the volunteers currently assigned to a task, in the order they accepted."""
    rows = await session.execute(
        select(Person.name)
        .join(TaskAssignment, TaskAssignment.volunteer_id == Person.id)
        .where(TaskAssignment.task_id == task_id, TaskAssignment.active.is_(True))
        .order_by(TaskAssignment.accepted_at, TaskAssignment.id)
    )
    return list(rows.scalars())


async def card_state(session: AsyncSession, task: Task) -> tuple[str, bool]:
    """The card's text for the task as it stands now, and whether it still offers 「接单」."""
    unit = await session.get(OrgUnit, task.org_unit_id)
    text = await task_offer_text(session, task, unit, escalated=False) if unit else ""
    offer_line = text.rsplit("\n", 1)
    names = await assignee_names(session, task.id)
    if task.status == TaskStatus.cancelled.value:
        return offer_line[0] + "\n❌ 任务已取消", False
    if task.status == TaskStatus.dispatched.value and task.accepted_count < task.volunteers_needed:
        if names:
            missing = task.volunteers_needed - task.accepted_count
            return f"{offer_line[0]}\n✅ 已接单：{'、'.join(names)}（还差 {missing} 人）\n{offer_line[-1]}", True
        return text, True
    taken = "、".join(names) or "志愿者"
    return f"{offer_line[0]}\n✅ 已由 {taken} 接单", False


async def refresh_group_cards(session: AsyncSession, notifier: Notifier, task: Task) -> int:
    """Edit the task's cards in every team group to its current state; returns how many."""
    text, open_ = await card_state(session, task)
    return await notifier.edit_group_cards(f"task:{task.id}", text, accept_button(task.id) if open_ else None)
