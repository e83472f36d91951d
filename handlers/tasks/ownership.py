"""Who has a task now, and who hears about it (docs/tasks.md, ownership).

Every open task has an owner who has been told: the teams it is offered to, or the nearest
admin up the tree who exists (levels without admins are skipped, up to the center). These
helpers answer the questions the routing and lifecycle actions share: the task's chain of
units, the admins along it, and the people who ordered it — the resident, and whoever
ordered on their behalf (代点单), who is the contact for an elder without a phone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.core.act import Act
from storage.db import load
from storage.models import OrgUnit, Person, Task, Team
from storage.people.network import (
    admins_at_units,
    get_unit,
    teams_by_load_at_units,
    units_by_ids,
)
from storage.people.people import has_chat_account, people_by_ids
from storage.sql import path_ids
from storage.tasks.offers import enqueue_to_people

ROUTING_LEVELS = ("point", "station", "institute", "center")


@dataclass
class Chain:
    """A task's units from its village up to the center, and the admins granted at each."""

    units: list[OrgUnit]
    admins: dict[int, list[Person]] = field(default_factory=dict)

    def admins_at(self, unit: OrgUnit) -> list[Person]:
        """The admins granted exactly at `unit`."""
        return self.admins.get(unit.id, [])

    def index(self, task: Task) -> int:
        """Where in the chain the task waits now (its owner unit, or the unit of its level)."""
        for i, unit in enumerate(self.units):
            if unit.id == task.owner_unit_id:
                return i
        level = task.dispatch_level or "station"
        found = [i for i, u in enumerate(self.units) if level_of(u) == level]
        return found[-1] if found else 0

    def nearest_admins(self, start: int = 0) -> tuple[OrgUnit, list[Person]] | None:
        """The nearest unit at or above `start` that has admins, and its admins."""
        for unit in self.units[start:]:
            if self.admins_at(unit):
                return unit, self.admins_at(unit)
        return None

    def told_from(self, start: int = 0) -> list[tuple[OrgUnit, list[Person]]]:
        """Every unit at or above `start` that has admins, nearest first."""
        return [(u, self.admins_at(u)) for u in self.units[start:] if self.admins_at(u)]


def level_of(unit: OrgUnit) -> str:
    """The routing level a unit answers at: a point's teams count as its station's."""
    return "station" if unit.level == "point" else unit.level


@dataclass
class Network:
    """What one scheduler tick reads about the network once: each village's chain, each unit's teams.

    Within a tick's transaction the roster does not change; `prefetch` reads it for all the
    tick's tasks in a handful of queries, instead of a few queries per task.
    """

    chains: dict[int, Chain] = field(default_factory=dict)
    # unit id → its teams, fewest open tasks first
    teams: dict[int, list[Team]] = field(default_factory=dict)
    # The tasks' residents and orderers: held here, so the session's (weak) identity map keeps them.
    people: list[Person] = field(default_factory=list)

    def teams_at(self, unit_id: int, category: str) -> list[Team] | None:
        """The unit's teams serving `category` ("" for any), or None when not read yet."""
        if unit_id not in self.teams:
            return None
        return [t for t in self.teams[unit_id] if not category or f"|{category}|" in t.categories]

    async def prefetch(self, act: Act, tasks: list[Task]) -> None:
        """Read every chain, its admins and its units' teams for these tasks (five queries), and their residents."""
        stations = await units_by_ids(act.session, sorted({t.org_unit_id for t in tasks} - self.chains.keys()))
        paths = {station.id: path_ids(station.path) or [station.id] for station in stations}
        units = {u.id: u for u in await units_by_ids(act.session, sorted({i for ids in paths.values() for i in ids}))}
        admins = await admins_at_units(act.session, [i for i, u in units.items() if u.level in ROUTING_LEVELS])
        for station in stations:
            chain = [units[i] for i in reversed(paths[station.id]) if i in units]
            self.chains[station.id] = Chain([u for u in chain if u.level in ROUTING_LEVELS], admins)
        missing = sorted(i for i, u in units.items() if u.level in ROUTING_LEVELS and i not in self.teams)
        found = await teams_by_load_at_units(act.session, missing)
        for unit_id in missing:
            self.teams[unit_id] = found.get(unit_id, [])
        self.people += await people_by_ids(act.session, [p for t in tasks for p in (t.resident_id, t.created_by_id)])


async def chain_of(act: Act, task: Task, network: Network | None = None) -> Chain:
    """The task's routing chain with its admins (three queries, whatever the depth; none when `network` has it)."""
    if network is None:
        network = Network()
    if task.org_unit_id not in network.chains:
        station = await get_unit(act.session, task.org_unit_id)
        if station is None:
            return Chain([])
        ids = path_ids(station.path) or [station.id]
        units = {u.id: u for u in await units_by_ids(act.session, ids)}
        chain = [units[i] for i in reversed(ids) if i in units and units[i].level in ROUTING_LEVELS]
        network.chains[task.org_unit_id] = Chain(chain, await admins_at_units(act.session, [u.id for u in chain]))
    return network.chains[task.org_unit_id]


@dataclass(frozen=True)
class Placement:
    """Where a task waits now: offered to `teams` and/or held by `admins` at `unit` (nobody: stuck)."""

    unit: OrgUnit | None
    level: str
    teams: list[Team] = field(default_factory=list)
    admins: list[Person] = field(default_factory=list)

    @property
    def nobody(self) -> bool:
        """Whether nobody at all could be given the task."""
        return not self.teams and not self.admins


async def requesters(act: Act, task: Task) -> list[Person]:
    """Who hears about their task: the resident, and whoever ordered it for them (代点单).

    A resident with neither a phone nor a chat account (an elder ordered for) cannot be
    reached; the orderer is their contact and hears everything instead.
    """
    people: list[Person] = []
    resident = await load(act.session, Person, task.resident_id)
    if resident is not None and (resident.phone or await has_chat_account(act.session, resident.id)):
        people.append(resident)
    if task.created_by_id != task.resident_id:
        orderer = await load(act.session, Person, task.created_by_id)
        if orderer is not None:
            people.append(orderer)
    return people


async def tell_requesters(act: Act, task: Task, text: str, *, skip: int | None = None) -> int:
    """Tell the resident and their orderer something about their task (not `skip`, who already knows)."""
    ids = [p.id for p in await requesters(act, task) if p.id != skip]
    return await tell(act, ids, text)


async def tell(act: Act, person_ids: list[int], text: str) -> int:
    """Send these people the same message, in one statement (the escalation tick's way of notifying)."""
    return await enqueue_to_people(act.session, person_ids=person_ids, text=text, now=act.now)
