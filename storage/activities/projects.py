"""Projects (志愿服务项目): branded programmes owned by an org unit, with their figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OrgUnit
from storage.models.activities import Activity, Project
from storage.people.network import in_subtree
from storage.sql import path_ids


@dataclass(frozen=True)
class ProjectFigures:
    """A project with its unit's name, its number of activities and people served."""

    project: Project
    unit_name: str
    activities: int
    beneficiaries: int


async def create_project(
    *, session: AsyncSession, org_unit_id: int, name: str, now: datetime, created_by_id: int | None = None
) -> Project | None:
    """Create a project in a unit; None if the unit already has one of that name."""
    project = Project(org_unit_id=org_unit_id, name=name, created_at=now, created_by_id=created_by_id)
    try:
        async with session.begin_nested():
            session.add(project)
            await session.flush()  # the caller audits the new project's id
    except IntegrityError:
        return None
    return project


async def projects_for_unit(*, session: AsyncSession, unit: OrgUnit) -> list[Project]:
    """Projects an activity held at `unit` may belong to: those of the unit and the units above it."""
    ids = path_ids(unit.path) or [unit.id]
    stmt = select(Project).where(Project.org_unit_id.in_(ids)).order_by(Project.id)
    return list((await session.execute(stmt)).scalars().all())


async def find_project_for_unit(*, session: AsyncSession, unit: OrgUnit, name: str) -> Project | None:
    """The project of that name (or the one whose name contains it) available at `unit`, nearest unit first."""
    candidates = await projects_for_unit(session=session, unit=unit)
    depth = {int(p): i for i, p in enumerate(unit.path.strip("/").split("/")) if p}
    candidates.sort(key=lambda p: -depth.get(p.org_unit_id, 0))
    for project in candidates:
        if project.name == name:
            return project
    partial = [p for p in candidates if name in p.name]
    return partial[0] if len(partial) == 1 else None


async def project_figures(
    *, session: AsyncSession, scopes: list[OrgUnit] | None = None, project_ids: list[int] | None = None
) -> list[ProjectFigures]:
    """Projects owned in the given subtrees (or with the given ids), with activity and beneficiary counts."""
    if not scopes and not project_ids:
        return []
    activity_counts = (
        select(
            Activity.project_id.label("pid"),
            func.count(Activity.id).label("n"),
            func.coalesce(func.sum(Activity.beneficiaries), 0).label("served"),
        )
        .where(Activity.project_id.is_not(None), Activity.status != "cancelled")
        .group_by(Activity.project_id)
        .subquery()
    )
    conds = [in_subtree(OrgUnit.path, s.path) for s in scopes or []]
    if project_ids:
        conds.append(Project.id.in_(project_ids))
    stmt = (
        select(Project, OrgUnit.name, activity_counts.c.n, activity_counts.c.served)
        .join(OrgUnit, OrgUnit.id == Project.org_unit_id)
        .outerjoin(activity_counts, activity_counts.c.pid == Project.id)
        .where(or_(*conds))
        .order_by(OrgUnit.path, Project.id)
    )
    return [
        ProjectFigures(project, unit_name, int(n or 0), int(served or 0))
        for project, unit_name, n, served in (await session.execute(stmt)).all()
    ]
