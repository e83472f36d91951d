"""What a handler sees: the message, the person, their roles, a session, a clock — never a platform.

Replies and notifications go to the outbox in the handler's own transaction, so a message
is owed exactly when the change that caused it is committed (Zulip's bot-handler shape).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from handlers.core.act import Act
from handlers.core.messages import Button, InboundMessage
from handlers.core.notify import Notifier
from storage.clock import Clock
from storage.db import Session
from storage.messaging.outbox import enqueue_reply
from storage.messaging.state import SqlStateStore, state_key
from storage.models import OrgUnit, OutboxMessage, Person, RoleGrant
from storage.people.network import get_unit
from storage.tasks.hours import DEFAULT_DAILY_CAP


@dataclass
class Context:
    """One inbound message being handled."""

    message: InboundMessage
    person: Person
    roles: list[RoleGrant]
    session: Session
    clock: Clock
    state: SqlStateStore
    tz: tzinfo
    sent: list[OutboxMessage] = field(default_factory=list)
    # Where the bot's web pages are reached (the dashboard's login links), e.g. https://xinfeng.example.org.
    public_url: str = ""
    daily_cap: Decimal = DEFAULT_DAILY_CAP
    _act: Act | None = field(default=None, init=False, repr=False)

    @property
    def now(self) -> datetime:
        """The current instant (from the injected clock)."""
        return self.clock.now()

    @property
    def state_key(self) -> str:
        """This conversation's key in the state store."""
        m = self.message
        return state_key(m.platform, m.chat_id, m.user_id)

    @property
    def in_group(self) -> bool:
        """Whether the message came from a group chat."""
        return self.message.chat_type == "group"

    def reply(self, text: str, buttons: list[Button] | None = None, ref: str | None = None) -> OutboxMessage:
        """Answer in the chat the message came from."""
        row = enqueue_reply(self.session, person_id=None if self.in_group else self.person.id,
                            platform=self.message.platform, address=self.message.chat_id,
                            label=self._chat_label(), text=text, buttons=[b.to_dict() for b in buttons or []],
                            ref=ref, now=self.now)
        self.sent.append(row)
        return row

    def _chat_label(self) -> str:
        if self.in_group:
            return f"群:{self.message.chat_id}"
        return self.person.name

    @property
    def act(self) -> Act:
        """This message's transaction as a domain action's handle, with this person acting."""
        if self._act is None:
            self._act = Act(session=self.session, now=self.now, tz=self.tz, actor=self.person, sent=self.sent,
                            roles=self.roles, daily_cap=self.daily_cap)
        return self._act

    @property
    def notifier(self) -> Notifier:
        """Notifications written to this message's transaction."""
        return Notifier(self.session, self.now, self.sent)

    async def notify(
        self, person: Person, text: str, buttons: list[Button] | None = None, ref: str | None = None
    ) -> None:
        """Send a person a direct message on their preferred chat account."""
        await self.notifier.person(person, text, buttons, ref)

    def audit(
        self,
        action: str,
        target_type: str | None = None,
        target_id: int | None = None,
        outcome: str = "ok",
        **detail: Any,
    ) -> None:
        """Record what this person did, or was refused, in the same transaction."""
        self.act.audit(action, target_type, target_id, outcome, **detail)

    def refuse(self, text: str, action: str, target_type: str | None = None, target_id: int | None = None) -> None:
        """Politely refuse and write the refusal to the audit log."""
        self.reply(text)
        self.audit(action, target_type, target_id, outcome="refused", reason=text)

    async def home_unit(self) -> OrgUnit | None:
        """The person's village station (or roster unit)."""
        if self.person.org_unit_id is None:
            return None
        return await get_unit(self.session, self.person.org_unit_id)

    def local(self, at: datetime | None) -> str:
        """Format an instant in the region's time zone, the way villagers write it."""
        return self.act.local(at)
