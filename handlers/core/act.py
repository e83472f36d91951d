"""Domain actions: one function per thing that happens, and the handle they all receive.

An action (accept a task, sign up for an activity, claim a wish…) validates, changes state
atomically, writes the outbox rows for everyone concerned and its audit row — all in the
caller's transaction, so they commit together or not at all (Zulip's `zerver/actions/`).
Command handlers parse and reply; scheduler jobs call the same actions with no actor.

`@domain_action` registers each action under its audit name, so a test can require that
every action leaves its audit row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any, TypeVar

from handlers.core.notify import Notifier
from storage import audit
from storage.db import Session
from storage.models import OutboxMessage, Person, RoleGrant
from storage.people.identities import roles_of
from storage.tasks.hours import DEFAULT_DAILY_CAP

F = TypeVar("F", bound=Callable[..., Any])

# audit name → the action that records it (filled as feature modules are imported)
ACTIONS: dict[str, Callable[..., Any]] = {}


def domain_action(audit_name: str) -> Callable[[F], F]:
    """Register an action; `audit_name` is the `action` of the audit row it writes."""

    def register(fn: F) -> F:
        if ACTIONS.get(audit_name, fn) is not fn:
            raise ValueError(f"two domain actions audit as {audit_name!r}")
        ACTIONS[audit_name] = fn
        return fn

    return register


@dataclass(frozen=True)
class Refused:
    """Not allowed, or not possible for this person: `reason` is the polite answer they get."""

    reason: str


@dataclass(frozen=True)
class Unreadable:
    """What was sent could not be read; the command answers with how to write it."""


@dataclass
class Act:
    """One transaction's doing: who acts (None: the scheduler), when, and what it owes others."""

    session: Session
    now: datetime
    tz: tzinfo
    actor: Person | None = None
    sent: list[OutboxMessage] = field(default_factory=list)
    # The actor's role grants, read once per transaction (a handler passes the ones it loaded).
    roles: list[RoleGrant] | None = None
    # The operator's daily hours cap (`XINFENG_DAILY_HOURS_CAP`), carried here rather than kept in a
    # module global, so two engines (or two tests) with different settings never see each other's.
    daily_cap: Decimal = DEFAULT_DAILY_CAP

    @property
    def actor_id(self) -> int | None:
        """The acting person's id, or None for the scheduler."""
        return self.actor.id if self.actor is not None else None

    async def grants(self) -> list[RoleGrant]:
        """The actor's role grants (none for the scheduler)."""
        if self.actor is None:
            return []
        if self.roles is None:
            self.roles = await roles_of(self.session, self.actor.id)
        return self.roles

    @property
    def notify(self) -> Notifier:
        """Notifications written to this transaction's outbox."""
        return Notifier(self.session, self.now, self.sent)

    def audit(self, action: str, target_type: str | None = None, target_id: int | None = None,
              outcome: str = "ok", **detail: Any) -> None:
        """Record what happened (or was refused), in the same transaction as the change."""
        audit.record(self.session, at=self.now, actor_id=self.actor_id, action=action,
                     target_type=target_type, target_id=target_id, outcome=outcome, **detail)

    def refuse(self, action: str, reason: str, target_type: str | None = None, target_id: int | None = None,
               **detail: Any) -> Refused:
        """Audit a refusal with its reason and target (docs/roles.md), and return it for the reply."""
        self.audit(action, target_type, target_id, outcome="refused", reason=reason, **detail)
        return Refused(reason)

    def local(self, at: datetime | None) -> str:
        """An instant in the region's time zone, the way villagers write it ("12月5日 08:00")."""
        if at is None:
            return "未定"
        loc = at.astimezone(self.tz)
        return f"{loc.month}月{loc.day}日 {loc.hour:02d}:{loc.minute:02d}"
