"""Who may do what, where (PRODUCT.md §2): every role is scoped to a subtree or a team."""

from __future__ import annotations

from handlers.core.context import Context
from storage.models import OrgUnit, Task
from storage.people.network import get_unit, team_ids_of, units_by_ids
from storage.tasks.transitions import is_assigned as assigned


async def _granted_units(ctx: Context, role: str) -> list[OrgUnit]:
    return await units_by_ids(ctx.session, [g.org_unit_id for g in ctx.roles
                                            if g.role == role and g.org_unit_id is not None])


async def admin_units(ctx: Context) -> list[OrgUnit]:
    """The units this person administers (station, institute or center admin)."""
    return await _granted_units(ctx, "admin")


async def admin_over(ctx: Context, unit: OrgUnit) -> OrgUnit | None:
    """The admin grant (its unit) whose subtree contains `unit`, if any."""
    for scope in await admin_units(ctx):
        if unit.path.startswith(scope.path):
            return scope
    return None


async def secretary_over(ctx: Context, unit: OrgUnit) -> OrgUnit | None:
    """The first-secretary grant covering `unit` (their own station), if any."""
    for scope in await _granted_units(ctx, "first_secretary"):
        if unit.path.startswith(scope.path):
            return scope
    return None


def captain_team_ids(ctx: Context) -> set[int]:
    """Teams this person captains."""
    return {g.team_id for g in ctx.roles if g.role == "captain" and g.team_id is not None}


def has_role(ctx: Context, role: str) -> bool:
    """Whether the person holds a role anywhere."""
    return any(g.role == role for g in ctx.roles)


async def member_team_ids(ctx: Context) -> set[int]:
    """Teams the person belongs to (captains count as members of their teams)."""
    return await team_ids_of(ctx.session, ctx.person.id) | captain_team_ids(ctx)


async def is_assigned(ctx: Context, task: Task) -> bool:
    """Whether the person is an active assignee of the task."""
    return await assigned(session=ctx.session, task_id=task.id, volunteer_id=ctx.person.id)


async def may_see_contact(ctx: Context, task: Task) -> bool:
    """A task's phone and address: its resident, an assigned volunteer, admins over it, its secretary."""
    if task.resident_id == ctx.person.id or task.created_by_id == ctx.person.id:
        return True
    if await is_assigned(ctx, task):
        return True
    unit = await get_unit(ctx.session, task.org_unit_id)
    if unit is None:
        return False
    return await admin_over(ctx, unit) is not None or await secretary_over(ctx, unit) is not None
