"""What a task action reports back: one small type per way it can end.

A command handler matches on these to compose its one reply; a scheduler job counts them.
A refusal is `handlers.core.act.Refused`, its reason already written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from handlers.tasks.ownership import Placement
from storage.models import OrgUnit, Person, Task, Team


@dataclass(frozen=True)
class NotOpen:
    """The task's state does not allow this any more (`task.status` as it was read)."""

    task: Task


@dataclass(frozen=True)
class Ordered:
    """A draft (or an emergency, at once) became a task; `placed` is who has it now."""

    task: Task
    placed: Placement


@dataclass(frozen=True)
class Placed:
    """A new task went where it goes first: offered to teams, held by an admin, or (nobody) left stuck."""

    task: Task
    placement: Placement


@dataclass(frozen=True)
class Dispatched:
    """The task is offered to `team` at `level`."""

    task: Task
    team: Team
    level: str


@dataclass(frozen=True)
class TeamNotFound:
    """No team is called what the admin wrote."""

    query: str


@dataclass(frozen=True)
class TeamAmbiguous:
    """Several teams inside the admin's scope match what they wrote."""

    query: str
    names: list[str]


@dataclass(frozen=True)
class Accepted:
    """The volunteer won a place; `unit` is the task's station, `orderer` who ordered for `resident` (代点单)."""

    task: Task
    unit: OrgUnit | None
    orderer: Person | None = None
    resident: Person | None = None


@dataclass(frozen=True)
class AlreadyYours:
    """The volunteer already holds a place on the task."""

    task: Task


@dataclass(frozen=True)
class Taken:
    """Every place was taken by others first."""

    task: Task


@dataclass(frozen=True)
class Released:
    """The volunteer gave their place back; the task is offered again."""

    task: Task


@dataclass(frozen=True)
class HoursNeeded:
    """An assignee reported done without saying how long it took."""

    task: Task


@dataclass(frozen=True)
class Completed:
    """Reported done with `hours`; the resident is asked to confirm and rate."""

    task: Task
    hours: Decimal


@dataclass(frozen=True)
class Rated:
    """The resident confirmed and rated; the volunteers' hours are credited."""

    task: Task
    rating: int


@dataclass(frozen=True)
class NotCancellable:
    """Too late to cancel; `taken`: a volunteer has accepted and only an admin may cancel now."""

    task: Task
    taken: bool


@dataclass(frozen=True)
class Cancelled:
    """The task is withdrawn from everyone who had it."""

    task: Task


@dataclass(frozen=True)
class Escalated:
    """Moved one level up, to `unit`: offered to `teams` there, and that level's `admins` told."""

    task: Task
    level: str
    teams: list[Team] = field(default_factory=list)
    admins: list[Person] = field(default_factory=list)
    unit: OrgUnit | None = None


@dataclass(frozen=True)
class Reported:
    """Still unaccepted at the top: the top admins were reminded (`told`: how many; 0 — nobody to tell)."""

    task: Task
    told: int = 1


@dataclass(frozen=True)
class Amended:
    """The villager added to their task (an emergency's correction); `told`: how many heard it."""

    task: Task
    told: int


@dataclass(frozen=True)
class Confirmed:
    """Confirmed with no rating after the resident's time ran out; hours credited."""

    task: Task
