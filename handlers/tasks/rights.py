"""Who may act on a task (PRODUCT.md §2), asked of an action's actor rather than of a chat context.

The same rules as `handlers.core.permissions`, read from the actor's role grants in the
action's own transaction, so a scheduler job or a command reaches the same answer. The
scheduler (no actor) holds no role.
"""

from __future__ import annotations

from handlers.core.act import Act
from storage.models import OrgUnit, RoleGrant
from storage.people.identities import roles_of
from storage.people.network import team_ids_of, units_by_ids


async def _grants(act: Act) -> list[RoleGrant]:
    if act.actor is None:
        return []
    return await roles_of(act.session, act.actor.id)


async def _scope_over(act: Act, role: str, unit: OrgUnit) -> OrgUnit | None:
    ids = [g.org_unit_id for g in await _grants(act) if g.role == role and g.org_unit_id is not None]
    for scope in await units_by_ids(act.session, ids):
        if unit.path.startswith(scope.path):
            return scope
    return None


async def admin_over(act: Act, unit: OrgUnit) -> OrgUnit | None:
    """The actor's admin grant (its unit) whose subtree contains `unit`, if any."""
    return await _scope_over(act, "admin", unit)


async def secretary_over(act: Act, unit: OrgUnit) -> OrgUnit | None:
    """The actor's first-secretary grant covering `unit` (their own station), if any."""
    return await _scope_over(act, "first_secretary", unit)


async def may_order_for(act: Act, unit: OrgUnit) -> bool:
    """Whether the actor may order on behalf of a resident of `unit` (代点单): its admins or secretary."""
    return await admin_over(act, unit) is not None or await secretary_over(act, unit) is not None


async def member_team_ids(act: Act) -> set[int]:
    """Teams the actor belongs to (captains count as members of their teams)."""
    if act.actor is None:
        return set()
    captained = {g.team_id for g in await _grants(act) if g.role == "captain" and g.team_id is not None}
    return await team_ids_of(act.session, act.actor.id) | captained
