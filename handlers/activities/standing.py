"""Who is acting, as a domain action sees them (PRODUCT.md §2): the teams they lead, the units they run.

Actions receive an `Act`, not a handler's context, and answer these questions from the
database at the moment of the change: a draft confirmed an hour later, or a button pressed
in a group, must still be allowed then. The scheduler (no actor) leads nothing.
"""

from __future__ import annotations

from handlers.core.act import Act
from storage.models import OrgUnit, RoleGrant, Team
from storage.people.identities import roles_of
from storage.people.network import get_unit, is_within, team_ids_of, units_by_ids


async def _grants(act: Act) -> list[RoleGrant]:
    if act.actor is None:
        return []
    return await roles_of(act.session, act.actor.id)


async def captained_team_ids(act: Act) -> set[int]:
    """The teams the actor captains."""
    return {g.team_id for g in await _grants(act) if g.role == "captain" and g.team_id is not None}


async def admin_scopes(act: Act) -> list[OrgUnit]:
    """The units the actor administers (station, institute or center admin)."""
    ids = [g.org_unit_id for g in await _grants(act) if g.role == "admin" and g.org_unit_id is not None]
    return await units_by_ids(act.session, ids)


async def may_lead(act: Act, team: Team) -> bool:
    """Whether the actor captains the team or administers a unit above it."""
    if team.id in await captained_team_ids(act):
        return True
    unit = await get_unit(act.session, team.org_unit_id)
    return unit is not None and any(is_within(unit.path, s.path) for s in await admin_scopes(act))


async def may_sign_up(act: Act) -> bool:
    """Whether the actor may take part in activities: a volunteer, a team member, or someone who leads."""
    if act.actor is None:
        return False
    if act.actor.is_volunteer or await team_ids_of(act.session, act.actor.id):
        return True
    return bool(await captained_team_ids(act)) or bool(await admin_scopes(act))
