"""What the actions of the data map and the programmes share: the actor's grants and the common outcomes.

An action holds an `Act`, not a Context, so it reads the acting person's role grants from
storage itself: the permission check is the same whoever calls it (a command, a button, a
test). A refusal is audited with its reason and, where there is one, its target
(PRODUCT.md §2), and returned so the command can say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handlers.core.act import Act
from storage.models import OrgUnit, Person
from storage.people.identities import roles_of
from storage.people.network import team_ids_of, units_by_ids


@dataclass(frozen=True)
class Refused:
    """The actor may not do this; `reason` is the polite reply that says why."""

    reason: str


@dataclass(frozen=True)
class Unreadable:
    """What was sent could not be read; the command answers with how to write it."""


def refuse(act: Act, action: str, reason: str, target_type: str | None = None, target_id: int | None = None,
           **detail: Any) -> Refused:
    """Audit a refusal with its reason and target, and return it for the reply."""
    act.audit(action, target_type, target_id, outcome="refused", reason=reason, **detail)
    return Refused(reason)


def actor_of(act: Act) -> Person:
    """The person acting; these actions are always someone's doing, never the scheduler's."""
    if act.actor is None:
        raise ValueError("this action needs an acting person")
    return act.actor


async def granted_units(act: Act, role: str) -> list[OrgUnit]:
    """The units where the actor holds `role`, in the order the grants were made."""
    if act.actor is None:
        return []
    grants = await roles_of(act.session, act.actor.id)
    return await units_by_ids(act.session, [g.org_unit_id for g in grants
                                            if g.role == role and g.org_unit_id is not None])


async def granted_over(act: Act, role: str, unit: OrgUnit) -> OrgUnit | None:
    """The actor's grant of `role` (its unit) whose subtree contains `unit`, if any."""
    for scope in await granted_units(act, role):
        if unit.path.startswith(scope.path):
            return scope
    return None


async def in_a_team(act: Act) -> bool:
    """Whether the actor belongs to a team (captains count as members of the teams they lead)."""
    if act.actor is None:
        return False
    if await team_ids_of(act.session, act.actor.id):
        return True
    return any(g.role == "captain" and g.team_id is not None for g in await roles_of(act.session, act.actor.id))
