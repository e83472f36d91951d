"""改类别: an admin corrects a task's category; a task nobody took yet is placed again, and the intake learns.

The category decides where a task goes (`handlers.tasks.routing`), so a wrong guess sends it to
the wrong team. An admin over the task says what it really is ("改类别 #12 卫生健康"); if nobody
has taken it, it is withdrawn from the teams it was offered to and placed anew by the usual
routing, and the villager hears where it went. A task already taken keeps its volunteer; only
its category changes. Either way the intake keeps the text with its right category as a
corrected example (docs/intake-language.md), as it does when an admin's 派单 sends a task to a
team that serves another category (`learn_from_dispatch`).
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.act import Act, Refused, domain_action
from handlers.core.rights import admin_over
from handlers.core.texts import ref
from handlers.language.learning import lexicon_guess
from handlers.language.lexicon import OTHER
from handlers.tasks.cards import withdraw_cards
from handlers.tasks.outcomes import NotOpen
from handlers.tasks.ownership import Placement, tell_requesters
from handlers.tasks.routing import place_new
from handlers.tasks.texts import where_it_went
from storage.db import load
from storage.intake.examples import record_example
from storage.models import Person, Task, TaskStatus, Team
from storage.people.network import get_unit, teams_by_ids
from storage.tasks.queries import recategorise_task, refresh_task
from storage.tasks.transitions import offered_team_ids


@dataclass(frozen=True)
class Recategorised:
    """The category changed from `old`; `placement`: where the task went anew (None: it was taken, so it stayed)."""

    task: Task
    old: str
    placement: Placement | None = None


@dataclass(frozen=True)
class SameCategory:
    """The task already has that category: nothing changed."""

    task: Task


def served(team: Team) -> list[str]:
    """The categories a team serves, 其他 left out (it says nothing about a request)."""
    return [c for c in team.categories.strip("|").split("|") if c and c != OTHER]


@domain_action("recategorise")
async def recategorise(act: Act, task: Task, category: str) -> Recategorised | SameCategory | NotOpen | Refused:
    """改类别: set the task's category (admins over it); an untaken task is placed again and everyone concerned told."""
    station = await get_unit(act.session, task.org_unit_id)
    if station is None or await admin_over(act, station) is None:
        where = station.name if station is not None else "本站"
        return act.refuse("recategorise", f"只有{where}及其上级的管理员可以改任务 {ref(task.id)} 的类别。",
                          "task", task.id)
    if task.status == TaskStatus.cancelled.value:
        return NotOpen(task)
    if task.category == category:
        return SameCategory(task)
    old, held_by = task.category, task.owner_id
    before = await teams_by_ids(act.session, await offered_team_ids(session=act.session, task_id=task.id))
    again = await recategorise_task(act.session, task.id, category)
    await refresh_task(act.session, task)
    await record_example(act.session, text=task.description, category=category, source="corrected", now=act.now,
                         guessed=old)
    placement = await _place_again(act, task, before, held_by) if again else None
    act.audit("recategorise", "task", task.id, old=old, new=category, placed_again=again,
              teams=[t.id for t in placement.teams] if placement else None)
    return Recategorised(task, old, placement)


async def _place_again(act: Act, task: Task, before: list[Team], held_by: int | None) -> Placement | None:
    """Route the task anew; take it back from the teams that no longer get it and tell who had it and the villager."""
    placed = await place_new(act, task)
    if not isinstance(placed, Placement):
        return None
    now_with = {t.id for t in placed.teams}
    gone = [t for t in before if t.id not in now_with]
    if gone:
        await withdraw_cards(act, task, gone, f"任务 {ref(task.id)} 改了类别，已改派给其他队伍，不用再接了，谢谢。",
                             kept=placed.teams[0] if placed.teams else None)
    if held_by is not None and held_by != act.actor_id and held_by not in {a.id for a in placed.admins}:
        owner = await load(act.session, Person, held_by)
        if owner is not None:
            await act.notify.person(owner, f"任务 {ref(task.id)} 的类别改成了【{task.category}】，已转给别人处理，您不用再管了。")
    await tell_requesters(act, task, f"您的任务 {ref(task.id)} 类别调整为「{task.category}」，"
                                     + where_it_went(task, placed.unit, placed.teams, placed.admins))
    return placed


async def learn_from_dispatch(act: Act, task: Task, team: Team) -> int | None:
    """Keep a corrected example when an admin sends a task to a team that serves none of its category.

    Of the team's categories, the one the task's words suggest most is taken; a team that
    serves only 其他 teaches nothing. Returns the example's id, or None when there was nothing to learn.
    """
    kinds = served(team)
    if not kinds or task.category in kinds:
        return None
    likelihood = dict(lexicon_guess(task.description).ranked)
    right = max(kinds, key=lambda c: likelihood.get(c, 0.0))
    return await record_example(act.session, text=task.description, category=right, source="corrected",
                                now=act.now, guessed=task.category)
