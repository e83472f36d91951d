"""Telling people things outside a reply: a team, its group, a unit's admins.

Used by handlers and by scheduled jobs alike; everything goes to the outbox in the caller's
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.messages import Button
from storage.models import OrgUnit, OutboxMessage, Person, RoleGrant, Team, TeamGroup, TeamMember
from storage.messaging.outbox import enqueue_to_group, enqueue_to_person, group_destinations


def _buttons(buttons: Iterable[Button] | None) -> list[dict[str, str]]:
    return [b.to_dict() for b in buttons or []]


@dataclass
class Notifier:
    """Writes notifications to the outbox of one session at one instant."""

    session: AsyncSession
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
        groups = (await self.session.execute(select(TeamGroup).where(TeamGroup.team_id == team.id))).scalars()
        for group in groups.all():
            self.sent.append(
                enqueue_to_group(
                    self.session,
                    group=group,
                    label=group.title or team.name,
                    text=text,
                    now=self.now,
                    buttons=_buttons(buttons),
                    ref=ref,
                )
            )
            count += 1
        members = (
            await self.session.execute(
                select(Person)
                .join(TeamMember, TeamMember.person_id == Person.id)
                .where(TeamMember.team_id == team.id, Person.dm_opt_in.is_(True))
                .order_by(Person.id)
            )
        ).scalars()
        skip = exclude_person_ids or set()
        for member in members.all():
            if member.id not in skip:
                await self.person(member, text, buttons, ref)
                count += 1
        return count

    async def edit_group_cards(self, ref: str, text: str, buttons: list[Button] | None = None) -> int:
        """Replace, in every team group, the messages already sent about `ref` (who took a task).

        Each becomes an outbox row of kind "edit" to the same chat, delivered after the original
        in that chat's order; a channel that cannot edit posts it as an update instead.
        """
        count = 0
        for team_id, platform, address, label in await group_destinations(self.session, ref=ref):
            row = OutboxMessage(team_id=team_id, platform=platform, address=address, recipient_label=label,
                                text=text, buttons=_buttons(buttons), kind="edit", ref=ref, created_at=self.now)
            self.session.add(row)
            self.sent.append(row)
            count += 1
        return count

    async def admins(self, unit: OrgUnit, text: str, ref: str | None = None) -> int:
        """The admins granted exactly at this unit."""
        admins = (
            await self.session.execute(
                select(Person)
                .join(RoleGrant, RoleGrant.person_id == Person.id)
                .where(RoleGrant.role == "admin", RoleGrant.org_unit_id == unit.id)
                .order_by(Person.id)
                .distinct()
            )
        ).scalars()
        count = 0
        for admin in admins.all():
            await self.person(admin, text, ref=ref)
            count += 1
        return count
