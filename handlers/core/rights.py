"""Who may do what, where (docs/roles.md), asked of the acting person: every role is scoped.

A captain leads their team; an admin their unit's subtree; a first secretary their station.
Domain actions, command handlers and jobs ask the same questions of an `Act` (a handler's
`ctx.act`), read from the actor's role grants — so a draft confirmed an hour later, or a
button pressed in a group, is judged at the moment of the change. The scheduler (no actor)
holds no role.
"""

from __future__ import annotations

from handlers.core.act import Act
from storage.models import OrgUnit, Person, Task, Team
from storage.people.network import (
    get_unit,
    is_within,
    team_ids_of,
    teams_at_units,
    teams_by_ids,
    units_by_ids,
)
from storage.tasks.transitions import is_assigned


def actor_of(act: Act) -> Person:
    """The person acting, for actions that are always someone's doing, never the scheduler's."""
    if act.actor is None:
        raise ValueError("this action needs an acting person")
    return act.actor


async def holds(act: Act, role: str) -> bool:
    """Whether the actor holds `role` anywhere."""
    return any(g.role == role for g in await act.grants())


async def granted_units(act: Act, role: str) -> list[OrgUnit]:
    """The units where the actor holds `role`, in the order the grants were made."""
    return await units_by_ids(act.session, [g.org_unit_id for g in await act.grants()
                                            if g.role == role and g.org_unit_id is not None])


async def granted_over(act: Act, role: str, unit: OrgUnit) -> OrgUnit | None:
    """The actor's grant of `role` (its unit) whose subtree contains `unit`, if any."""
    for scope in await granted_units(act, role):
        if is_within(unit.path, scope.path):
            return scope
    return None


async def admin_units(act: Act) -> list[OrgUnit]:
    """The units the actor administers (station, institute or center admin)."""
    return await granted_units(act, "admin")


async def admin_over(act: Act, unit: OrgUnit) -> OrgUnit | None:
    """The actor's admin grant (its unit) whose subtree contains `unit`, if any."""
    return await granted_over(act, "admin", unit)


async def secretary_over(act: Act, unit: OrgUnit) -> OrgUnit | None:
    """The actor's first-secretary grant covering `unit` (their own station), if any."""
    return await granted_over(act, "first_secretary", unit)


async def may_order_for(act: Act, unit: OrgUnit) -> bool:
    """Whether the actor may order on behalf of a resident of `unit` (代点单): its admins or secretary."""
    return await admin_over(act, unit) is not None or await secretary_over(act, unit) is not None


async def captained_team_ids(act: Act) -> set[int]:
    """The teams the actor captains."""
    return {g.team_id for g in await act.grants() if g.role == "captain" and g.team_id is not None}


async def member_team_ids(act: Act) -> set[int]:
    """Teams the actor belongs to (captains count as members of the teams they lead)."""
    if act.actor is None:
        return set()
    return await team_ids_of(act.session, act.actor.id) | await captained_team_ids(act)


async def in_a_team(act: Act) -> bool:
    """Whether the actor belongs to any team."""
    return bool(await member_team_ids(act))


async def may_lead(act: Act, team: Team) -> bool:
    """Whether the actor captains the team or administers a unit above it."""
    if team.id in await captained_team_ids(act):
        return True
    unit = await get_unit(act.session, team.org_unit_id)
    return unit is not None and await admin_over(act, unit) is not None


async def led_teams(act: Act) -> list[Team]:
    """Teams the actor would mean by default: those they captain, then those at their admin units."""
    ids = sorted(await captained_team_ids(act))
    at_units = await teams_at_units(act.session, [u.id for u in await admin_units(act)])
    return await teams_by_ids(act.session, ids) + [t for t in at_units if t.id not in ids]


async def leads_anywhere(act: Act) -> bool:
    """Whether the actor captains any team or administers any unit."""
    return bool(await captained_team_ids(act)) or bool(await admin_units(act))


async def may_see_contact(act: Act, task: Task) -> bool:
    """A task's phone and address: its resident, an assigned volunteer, admins over it, its secretary."""
    if act.actor is None:
        return False
    if act.actor.id in (task.resident_id, task.created_by_id):
        return True
    if await is_assigned(session=act.session, task_id=task.id, volunteer_id=act.actor.id):
        return True
    unit = await get_unit(act.session, task.org_unit_id)
    return unit is not None and await may_order_for(act, unit)
