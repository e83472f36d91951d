"""Queries over the four-level network: subtrees, ancestors, teams by category."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    ChannelIdentity,
    OrgUnit,
    Person,
    RoleGrant,
    Task,
    TaskStatus,
    Team,
    TeamMember)
from storage.models.bounds import bounded_text
from storage.sql import path_ids


def in_subtree(column_path: ColumnElement[str], root_path: str) -> ColumnElement[bool]:
    """A condition: the unit whose path is `column_path` lies in the subtree at `root_path`."""
    return column_path.startswith(root_path, autoescape=True)


async def get_unit(session: AsyncSession, unit_id: int) -> OrgUnit | None:
    """Load one org unit by id."""
    return await session.get(OrgUnit, unit_id)


async def unit_by_code(session: AsyncSession, code: str) -> OrgUnit | None:
    """Load one org unit by its code."""
    return (await session.execute(select(OrgUnit).where(OrgUnit.code == code))).scalar_one_or_none()


async def ancestors(session: AsyncSession, unit: OrgUnit) -> list[OrgUnit]:
    """The unit and every unit above it, nearest first."""
    ids = path_ids(unit.path)
    if not ids:
        return [unit]
    rows = (await session.execute(select(OrgUnit).where(OrgUnit.id.in_(ids)))).scalars().all()
    by_id = {u.id: u for u in rows}
    return [by_id[i] for i in reversed(ids) if i in by_id]


def is_within(unit_path: str, scope_path: str) -> bool:
    """Tell whether a unit (by path) lies in a scope's subtree."""
    return unit_path.startswith(scope_path)


def _open_count() -> ColumnElement[int]:
    """A team's open tasks (dispatched or accepted, an active assignment of its member), correlated to `Team`."""
    from storage.models import TaskAssignment

    return (
        select(func.count(TaskAssignment.id))
        .join(Task, Task.id == TaskAssignment.task_id)
        .where(
            TaskAssignment.team_id == Team.id,
            TaskAssignment.active.is_(True),
            Task.status.in_([TaskStatus.dispatched.value, TaskStatus.accepted.value]),
        )
        .correlate(Team)
        .scalar_subquery()
    )


async def teams_for_category(
    session: AsyncSession, unit_id: int, category: str
) -> Sequence[tuple[Team, int]]:
    """Teams attached to exactly this unit that serve `category` (every team for ""), with their open-task counts.

    Fewest open tasks first, so routing spreads the load (docs/tasks.md).
    """
    open_count = _open_count()
    stmt = select(Team, open_count.label("open")).where(Team.org_unit_id == unit_id)
    if category:
        stmt = stmt.where(Team.categories.contains(f"|{category}|", autoescape=True))
    stmt = stmt.order_by(open_count, Team.id)
    return [(t, int(n)) for t, n in (await session.execute(stmt)).all()]


async def teams_by_load_at_units(session: AsyncSession, unit_ids: Sequence[int]) -> dict[int, list[Team]]:
    """The teams attached to each of these units, fewest open tasks first, in one query (a tick's batch)."""
    if not unit_ids:
        return {}
    open_count = _open_count()
    stmt = (select(Team).where(Team.org_unit_id.in_(list(unit_ids)))
            .order_by(Team.org_unit_id, open_count, Team.id))
    found: dict[int, list[Team]] = {}
    for team in (await session.execute(stmt)).scalars():
        found.setdefault(team.org_unit_id, []).append(team)
    return found


async def admins_at_units(session: AsyncSession, unit_ids: Sequence[int]) -> dict[int, list[Person]]:
    """The admins granted exactly at each of these units (units without admins left out), in one query."""
    if not unit_ids:
        return {}
    stmt = (select(RoleGrant.org_unit_id, Person).join(Person, Person.id == RoleGrant.person_id)
            .where(RoleGrant.role == "admin", RoleGrant.org_unit_id.in_(list(unit_ids)))
            .order_by(RoleGrant.org_unit_id, Person.id))
    found: dict[int, list[Person]] = {}
    for unit_id, person in (await session.execute(stmt)).all():
        if person not in found.setdefault(int(unit_id), []):
            found[int(unit_id)].append(person)
    return found


async def units_under(session: AsyncSession, unit: OrgUnit, levels: Sequence[str]) -> list[OrgUnit]:
    """Units of the given levels inside a unit's subtree, by name."""
    stmt = (select(OrgUnit).where(in_subtree(OrgUnit.path, unit.path), OrgUnit.level.in_(list(levels)))
            .order_by(OrgUnit.name))
    return list((await session.execute(stmt)).scalars().all())


async def match_units(session: AsyncSession, text: str, levels: Sequence[str]) -> list[OrgUnit]:
    """Units of the given levels whose name contains `text` (or the reverse), best first."""
    rows = (await session.execute(select(OrgUnit).where(OrgUnit.level.in_(list(levels))))).scalars().all()
    return [u for u in rows if text and (text in u.name or u.name in text)]


async def units_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[OrgUnit]:
    """The units with these ids, in the order given (missing ones left out)."""
    if not ids:
        return []
    rows = (await session.execute(select(OrgUnit).where(OrgUnit.id.in_(list(ids))))).scalars().all()
    by_id = {u.id: u for u in rows}
    return [by_id[i] for i in ids if i in by_id]


async def units_named(session: AsyncSession, name: str) -> list[OrgUnit]:
    """Units whose code is `name` or whose name contains it."""
    stmt = select(OrgUnit).where((OrgUnit.code == name) | OrgUnit.name.contains(name, autoescape=True))
    return list((await session.execute(stmt)).scalars().all())


async def teams_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Team]:
    """The teams with these ids, by id."""
    if not ids:
        return []
    return list((await session.execute(select(Team).where(Team.id.in_(list(ids))).order_by(Team.id))).scalars())


async def teams_at_units(session: AsyncSession, unit_ids: Sequence[int]) -> list[Team]:
    """Teams attached to any of these units, by id."""
    if not unit_ids:
        return []
    stmt = select(Team).where(Team.org_unit_id.in_(list(unit_ids))).order_by(Team.id)
    return list((await session.execute(stmt)).scalars())


async def teams_named(session: AsyncSession, query: str) -> list[Team]:
    """Teams whose code is `query` or whose name contains it, by id."""
    stmt = select(Team).where((Team.code == query) | Team.name.contains(query, autoescape=True)).order_by(Team.id)
    return list((await session.execute(stmt)).scalars())


async def team_ids_of(session: AsyncSession, person_id: int) -> set[int]:
    """The teams a person is a member of."""
    rows = await session.execute(select(TeamMember.team_id).where(TeamMember.person_id == person_id))
    return set(rows.scalars())


async def captains_of(session: AsyncSession, team_id: int) -> list[Person]:
    """A team's captains."""
    stmt = (select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
            .where(RoleGrant.role == "captain", RoleGrant.team_id == team_id).order_by(Person.id))
    return list((await session.execute(stmt)).scalars().all())


async def admins_at(session: AsyncSession, unit_id: int) -> list[Person]:
    """The admins granted exactly at this unit."""
    stmt = (select(Person).join(RoleGrant, RoleGrant.person_id == Person.id)
            .where(RoleGrant.role == "admin", RoleGrant.org_unit_id == unit_id).order_by(Person.id).distinct())
    return list((await session.execute(stmt)).scalars().all())


async def units_at_levels(session: AsyncSession, levels: Sequence[str]) -> list[OrgUnit]:
    """Every unit of the given levels, by id."""
    stmt = select(OrgUnit).where(OrgUnit.level.in_(list(levels))).order_by(OrgUnit.id)
    return list((await session.execute(stmt)).scalars().all())


async def team_by_invite(session: AsyncSession, code: str) -> Team | None:
    """The team whose invite code this is (case does not matter: people type it by hand).

    Compared through `upper`, the typed code does not pass the column's own guard, so it is
    cleaned and cut here (a NUL in it made PostgreSQL fail the whole message; issue 12).
    """
    typed = bounded_text(code, 33).upper()  # one past the column's 32: still no stored code
    stmt = select(Team).where(func.upper(Team.invite_code) == typed)
    return (await session.execute(stmt)).scalar_one_or_none()


async def is_member(session: AsyncSession, *, team_id: int, person_id: int) -> bool:
    """Whether a person is a member of a team."""
    return await session.get(TeamMember, (team_id, person_id)) is not None


async def add_member(session: AsyncSession, *, team_id: int, person: Person) -> None:
    """Make a person a member of a team, and so a volunteer."""
    session.add(TeamMember(team_id=team_id, person_id=person.id))
    person.is_volunteer = True
    await session.flush()


async def team_names_of(session: AsyncSession, person_id: int) -> list[str]:
    """The names of the teams a person belongs to, by team id."""
    stmt = (select(Team.name).join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.person_id == person_id).order_by(Team.id))
    return list((await session.execute(stmt)).scalars())


async def unlinked_member_named(session: AsyncSession, *, team_id: int, name: str, platform: str) -> Person | None:
    """A team member of that name with no chat account on `platform` yet (a roster row to claim)."""
    linked = select(ChannelIdentity.person_id).where(ChannelIdentity.platform == platform)
    stmt = (
        select(Person).join(TeamMember, TeamMember.person_id == Person.id)
        .where(TeamMember.team_id == team_id, Person.name == name, Person.id.not_in(linked))
        .order_by(Person.id)
    )
    return (await session.execute(stmt)).scalars().first()


async def muted_member_count(session: AsyncSession, team_id: int, *, excluding: int | None = None) -> int:
    """How many of a team's members turned direct messages off (免打扰), leaving one person out."""
    stmt = (select(func.count()).select_from(TeamMember).join(Person, Person.id == TeamMember.person_id)
            .where(TeamMember.team_id == team_id, Person.dm_opt_in.is_(False)))
    if excluding is not None:
        stmt = stmt.where(Person.id != excluding)
    return int((await session.execute(stmt)).scalar_one())


async def has_units(session: AsyncSession) -> bool:
    """Whether any org unit has been imported yet."""
    return (await session.execute(select(OrgUnit.id).limit(1))).first() is not None
