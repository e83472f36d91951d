"""Telling people things outside a reply: a person, a team, its group, a unit's admins.

Used by domain actions, command handlers and scheduled jobs alike; everything goes to the
outbox in the caller's transaction, so a notification is owed exactly when the change that
caused it commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from handlers.core.messages import Button
from storage.db import Session
from storage.messaging.outbox import (
    enqueue_edit,
    enqueue_to_group,
    enqueue_to_person,
    group_destinations,
    opted_in_members,
    team_groups,
)
from storage.models import OrgUnit, OutboxMessage, Person, Team
from storage.people.network import admins_at


def _buttons(buttons: Iterable[Button] | None) -> list[dict[str, str]]:
    return [b.to_dict() for b in buttons or []]


@dataclass
class Notifier:
    """Writes notifications to the outbox of one session at one instant."""

    session: Session
    now: datetime
    sent: list[OutboxMessage] = field(default_factory=list)

    async def person(
        self, person: Person, text: str, buttons: list[Button] | None = None, ref: str | None = None
    ) -> None:
        """A direct message on the person's preferred chat account."""
        row = await enqueue_to_person(
            self.session, person=person, text=text, now=self.now, buttons=_buttons(buttons), ref=ref
        )
        self.sent.append(row)

    async def team(
        self,
        team: Team,
        text: str,
        buttons: list[Button] | None = None,
        ref: str | None = None,
        exclude_person_ids: set[int] | None = None,
    ) -> int:
        """The team's bound groups first (one message reaches everyone), then opted-in members."""
        count = 0
        for group in await team_groups(self.session, team.id):
            self.sent.append(enqueue_to_group(self.session, group=group, label=group.title or team.name, text=text,
                                              now=self.now, buttons=_buttons(buttons), ref=ref))
            count += 1
        skip = exclude_person_ids or set()
        for member in await opted_in_members(self.session, team.id):
            if member.id not in skip:
                await self.person(member, text, buttons, ref)
                count += 1
        return count

    async def edit_group_cards(self, ref: str, text: str, buttons: list[Button] | None = None) -> int:
        """Replace, in every team group, the messages already sent about `ref` (who took a task).

        Each becomes an outbox row of kind "edit" to the same chat, delivered after the original
        in that chat's order; a channel that cannot edit posts it as an update instead.
        """
        destinations = await group_destinations(self.session, ref=ref)
        for destination in destinations:
            self.sent.append(enqueue_edit(self.session, destination=destination, text=text, now=self.now,
                                          buttons=_buttons(buttons), ref=ref))
        return len(destinations)

    async def admins(self, unit: OrgUnit, text: str, ref: str | None = None) -> int:
        """The admins granted exactly at this unit."""
        admins = await admins_at(self.session, unit.id)
        for admin in admins:
            await self.person(admin, text, ref=ref)
        return len(admins)
