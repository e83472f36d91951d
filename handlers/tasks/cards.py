"""The task card in team groups, kept truthful: who took it, and a button only while places are open.

A task offered to a team is posted in the team's bound groups with an 「接单」 button. When
someone takes it (or gives it back, or it is cancelled) the cards already posted are edited
rather than followed by yet another message, so a group never shows a button for a task that
is gone; a press on a card the edit has not reached yet still gets the polite "taken" answer.
When an admin re-dispatches a task, the old teams' cards say so and lose their button, and
the volunteers who were sent it directly are told they need not take it.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.core.act import Act
from handlers.core.messages import Button
from handlers.tasks.texts import accept_button, card_text, withdrawn_card_text
from storage.messaging.outbox import enqueue_edit, group_destinations
from storage.models import Task, Team
from storage.people.network import get_unit
from storage.tasks.offers import enqueue_team_offer
from storage.tasks.queries import assignee_names, people_told_about


async def post_offer(act: Act, task: Task, team: Team, text: str, *, exclude: Sequence[int] = ()) -> int:
    """Post a task's card to a team: its groups with the 「接单」 button, then its members who take messages.

    What `act.notify.team` does, written set-based (two statements a team, however big), so an
    escalation tick over a province's tasks stays short.
    """
    buttons: list[Button] = accept_button(task.id)
    return await enqueue_team_offer(act.session, team_id=team.id, text=text, buttons=[b.to_dict() for b in buttons],
                                    ref=f"task:{task.id}", now=act.now, exclude_person_ids=exclude)


async def refresh_group_cards(act: Act, task: Task) -> int:
    """Edit the task's cards in every team group to its current state; returns how many."""
    station = await get_unit(act.session, task.org_unit_id)
    text, open_ = card_text(task, station, await assignee_names(act.session, task.id))
    return await act.notify.edit_group_cards(f"task:{task.id}", text, accept_button(task.id) if open_ else None)


async def withdraw_cards(act: Act, task: Task, teams: list[Team], text: str, *, kept: Team | None = None) -> int:
    """Take a task back from `teams`: their group cards lose the button, their members who had it are told.

    Members of `kept` (the team it went to instead) are not told to drop it.
    """
    ref = f"task:{task.id}"
    station = await get_unit(act.session, task.org_unit_id)
    team_ids = {t.id for t in teams}
    edited = 0
    for destination in await group_destinations(act.session, ref=ref):
        if destination[0] in team_ids:
            act.sent.append(enqueue_edit(act.session, destination=destination, text=withdrawn_card_text(task, station),
                                         now=act.now, ref=ref))
            edited += 1
    for person in await people_told_about(act.session, task.id, team_ids=sorted(team_ids),
                                          except_team_ids=[kept.id] if kept else []):
        if person.id not in (task.resident_id, task.created_by_id):
            await act.notify.person(person, text)
    return edited
