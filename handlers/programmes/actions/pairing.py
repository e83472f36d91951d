"""Pairing actions (结对帮扶): a paired volunteer logs a home visit (走访) to one of their households.

Only the volunteer's own active pairings can be visited; the visit is counted towards this
month (the region's calendar month), which the monthly reminder and report read.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.act import Act, Refused, domain_action
from handlers.core.rights import actor_of
from storage.models.pairings import Pairing, PairingVisit
from storage.programmes import pairings as store
from storage.programmes.pairings import (
    MonthCount,
    month_bounds,
    monthly_counts,
    pairings_of,
)

MAX_NOTE = 1000
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class NoteNeeded:
    """The visit came without what happened; `households` are the volunteer's pairings, to name one."""

    households: list[Pairing]


@dataclass(frozen=True)
class Visited:
    """A visit recorded, with this month's totals for the household after it."""

    pairing: Pairing
    visit: PairingVisit
    month: MonthCount


def household_named(pairings: list[Pairing], word: str) -> Pairing | None:
    """The pairing whose household the word names: exactly, or as "王大娘家" / "王大娘那里"."""
    exact = [p for p in pairings if p.household_name == word]
    if exact:
        return exact[0]
    prefix = [p for p in pairings if word.startswith(p.household_name)]
    return max(prefix, key=lambda p: len(p.household_name)) if prefix else None


@domain_action("visit")
async def log_visit(act: Act, *, household: str, note: str, problems_solved: int) -> Visited | Refused | NoteNeeded:
    """Record a home visit to one of the actor's paired households, with the problems it solved."""
    actor = actor_of(act)
    mine = await pairings_of(session=act.session, volunteer_id=actor.id)
    if not mine:
        return act.refuse("visit", "您还没有结对帮扶的户。结对名单由村文明实践站导入，请联系站长。",
                      household=household or None)
    if not household or not note:
        return NoteNeeded(mine)
    pairing = household_named(mine, household)
    if pairing is None:
        names = "、".join(p.household_name for p in mine)
        return act.refuse("visit", f"「{household}」不是您结对的户。您结对的户：{names}。", household=household)
    solved = min(max(problems_solved, 0), MAX_PROBLEMS)
    visit = await store.log_visit(session=act.session, pairing_id=pairing.id, note=note[:MAX_NOTE],
                                  problems_solved=solved, now=act.now)
    act.audit("visit", "pairing", pairing.id, visit_id=visit.id, problems_solved=solved)
    start, end = month_bounds(act.now, act.tz)
    month = (await monthly_counts(session=act.session, pairing_ids=[pairing.id], start=start, end=end))[pairing.id]
    return Visited(pairing, visit, month)
