"""What a task action reports back: one small type per way it can end.

A command handler matches on these to compose its one reply; a scheduler job counts them.
A refusal is `handlers.core.act.Refused`, its reason already written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from storage.models import OrgUnit, Task, Team


@dataclass(frozen=True)
class NotOpen:
    """The task's state does not allow this any more (`task.status` as it was read)."""

    task: Task


@dataclass(frozen=True)
class Ordered:
    """A draft became a task; `team` is where it went (None: the admins were asked to dispatch)."""

    task: Task
    team: Team | None


@dataclass(frozen=True)
class Dispatched:
    """The task is offered to `team` at `level`."""

    task: Task
    team: Team
    level: str


@dataclass(frozen=True)
class NoTeam:
    """No team near the task serves its category; the station's admins were asked to dispatch it."""

    task: Task


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
    """The volunteer won a place; `unit` is the task's station (for the contact card)."""

    task: Task
    unit: OrgUnit | None


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
    """Moved one level up: offered to `teams` there, and that level's admins told."""

    task: Task
    level: str
    teams: list[Team] = field(default_factory=list)


@dataclass(frozen=True)
class Reported:
    """Still unaccepted at the top: the center admins were reminded, the window re-armed."""

    task: Task


@dataclass(frozen=True)
class Confirmed:
    """Confirmed with no rating after the resident's time ran out; hours credited."""

    task: Task
