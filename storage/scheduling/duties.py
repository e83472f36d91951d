"""What the pairing and wish reminders read: unvisited pairings, overdue wishes, and who chases them.

A pairing (结对帮扶) is unvisited in a month when no visit of it falls inside the month; a
claimed wish (微心愿) is overdue once it was claimed a week ago and is still not fulfilled.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, select

from storage.db import Session
from storage.models import OrgUnit, Person, RoleGrant
from storage.models.pairings import Pairing, PairingVisit
from storage.models.wishes import Wish, WishStatus
from storage.scheduling.fanout import PersonIds
from storage.sql import path_ids


@dataclass(frozen=True)
class Unvisited:
    """An active pairing with no visit in the month asked about."""

    pairing_id: int
    volunteer_id: int
    unit_id: int
    household: str
    volunteer_name: str


@dataclass(frozen=True)
class OverdueWish:
    """A wish claimed long enough ago and still not fulfilled."""

    wish_id: int
    volunteer_id: int
    household: str
    description: str


def _unvisited(start: datetime, end: datetime, created_before: datetime) -> Select[Any]:
    """Select the active pairings with no visit in [start, end)."""
    visited = exists().where(PairingVisit.pairing_id == Pairing.id, PairingVisit.visited_at >= start,
                             PairingVisit.visited_at < end)
    return (select(Pairing.id, Pairing.volunteer_id, Pairing.org_unit_id, Pairing.household_name)
            .where(Pairing.active.is_(True), Pairing.created_at < created_before, ~visited)
            .order_by(Pairing.volunteer_id, Pairing.id))


async def unvisited_pairings(session: Session, start: datetime, end: datetime,
                             created_before: datetime) -> list[Unvisited]:
    """Pairings made before `created_before` with no visit in [start, end), by volunteer."""
    stmt = _unvisited(start, end, created_before).add_columns(Person.name).join(Person, Person.id == Pairing.volunteer_id)
    return [Unvisited(int(pid), int(vid), int(uid), household, name)
            for pid, vid, uid, household, name in await session.execute(stmt)]


def volunteers_with_unvisited(start: datetime, end: datetime, created_before: datetime) -> PersonIds:
    """The volunteers of those pairings (the pairing reminder's audience)."""
    missed = _unvisited(start, end, created_before).subquery()
    return select(missed.c.volunteer_id).distinct()


def _overdue(claimed_before: datetime) -> Select[Any]:
    """Select the wishes still only claimed since `claimed_before` or earlier."""
    return select(Wish.id, Wish.claimed_by_id, Wish.household, Wish.description).where(
        Wish.status == WishStatus.claimed.value, Wish.claimed_at <= claimed_before)


async def overdue_wishes(session: Session, claimed_before: datetime) -> list[OverdueWish]:
    """Wishes claimed at or before `claimed_before` and still only claimed, by id."""
    return [OverdueWish(int(wid), int(vid), household, description)
            for wid, vid, household, description in await session.execute(_overdue(claimed_before).order_by(Wish.id))]


def claimants_of_overdue_wishes(claimed_before: datetime) -> PersonIds:
    """Who claimed those wishes (the wish reminder's audience)."""
    claimants = _overdue(claimed_before).subquery()
    return select(claimants.c.claimed_by_id).distinct()


def people_among(person_ids: Iterable[int]) -> PersonIds:
    """These people, as an audience."""
    return select(Person.id).where(Person.id.in_(sorted(set(person_ids))))


async def chasers_of(session: Session, station_ids: Iterable[int]) -> dict[int, list[int]]:
    """Who chases each station's pairings: admin id → their stations.

    A station's own admins, or, where it has none, those of the nearest unit above it that
    has any.
    """
    admins_at: dict[int, list[int]] = defaultdict(list)
    for pid, uid in await session.execute(
        select(RoleGrant.person_id, RoleGrant.org_unit_id).where(RoleGrant.role == "admin",
                                                                 RoleGrant.org_unit_id.is_not(None))
    ):
        admins_at[uid].append(pid)
    stations = list(dict.fromkeys(station_ids))  # in the order given: the report lists them so
    paths = dict((await session.execute(select(OrgUnit.id, OrgUnit.path).where(OrgUnit.id.in_(stations)))).all())
    stations_of: dict[int, list[int]] = defaultdict(list)
    for station_id in stations:
        path = paths.get(station_id) or f"/{station_id}/"
        for uid in reversed(path_ids(path)):
            if admins_at.get(uid):
                for admin in admins_at[uid]:
                    stations_of[admin].append(station_id)
                break
    return stations_of


async def unit_names(session: Session, unit_ids: Iterable[int]) -> dict[int, str]:
    """The names of these org units."""
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    return {int(uid): name for uid, name in await session.execute(
        select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids)))}
