"""The task card in team groups, kept truthful: who took it, and a button only while places are open.

A task offered to a team is posted in the team's bound groups with an 「接单」 button. When
someone takes it (or gives it back, or it is cancelled) the cards already posted are edited
rather than followed by yet another message, so a group never shows a button for a task that
is gone; a press on a card the edit has not reached yet still gets the polite "taken" answer.
"""

from __future__ import annotations

from handlers.core.act import Act
from handlers.tasks.texts import accept_button, card_text
from storage.models import Task
from storage.people.network import get_unit
from storage.tasks.queries import assignee_names


async def refresh_group_cards(act: Act, task: Task) -> int:
    """Edit the task's cards in every team group to its current state; returns how many."""
    station = await get_unit(act.session, task.org_unit_id)
    text, open_ = card_text(task, station, await assignee_names(act.session, task.id))
    return await act.notify.edit_group_cards(f"task:{task.id}", text, accept_button(task.id) if open_ else None)
