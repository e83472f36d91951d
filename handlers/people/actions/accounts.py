"""Who someone is and where they belong: 注册 (my village), 加入 (a team), a proved phone.

A chat account is pointed at a roster person only with proof (docs/roles.md): a phone number
the platform proved to be the sender's own (Telegram's shared contact), an approver's 同意, or
the one-time code sent to the person's account already linked (`handlers.people.actions.claims`).
An invite code with a roster name proves nothing — names are public, codes are shared in groups —
so it opens a request instead. Someone on no roster who joins by invite is a new volunteer at
once, as their own row. Each link is audited as `link_identity`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from handlers.core.act import Act, Refused, domain_action
from handlers.people.actions.claims import ClaimPending, link_account, open_claim
from storage.models import OrgUnit, Person, Team
from storage.people.link_requests import roster_member_named
from storage.people.network import (
    add_member,
    captains_of,
    is_member,
    team_by_invite,
    team_names_of)
from storage.people.people import keep_phone, person_with_phone, set_home_unit
from storage.programmes.points import ensure_account


@dataclass(frozen=True)
class Account:
    """A chat account: the platform and the user's id there."""

    platform: str
    external_id: str


@dataclass(frozen=True)
class Joined:
    """Who joined which team; `already` when they were a member before."""

    team: Team
    person: Person
    already: bool = False


class Linked(enum.Enum):
    """How sharing a proved phone ended."""

    linked = "linked"  # the account now acts as the roster person with that phone
    already = "already"  # it did already
    not_on_roster = "not_on_roster"  # nobody has that phone: it is kept on the sender's own record


@dataclass(frozen=True)
class ContactOutcome:
    """A proved phone's result, with the roster person and their teams when found."""

    result: Linked
    person: Person | None = None
    teams: list[str] = field(default_factory=list)


@domain_action("register")
async def register(act: Act, *, unit: OrgUnit) -> None:
    """Record the village (station) the actor lives in, as a resident of it."""
    assert act.actor is not None, "only a person registers"
    await set_home_unit(act.session, act.actor, unit.id)
    act.audit("register", "org_unit", unit.id)


@domain_action("join")
async def join_team(act: Act, *, invite_code: str, name: str, account: Account,
                    display_name: str | None = None) -> Joined | ClaimPending | Refused:
    """Join the team of an invite code; naming someone on its roster asks for proof instead (a request).

    The invite code lets a person in as themselves. Naming a member (or captain) of the team who
    is not already this account's person opens a request that a captain or admin approves, or
    that the person proves with the code sent to their own account (`open_claim`).
    """
    assert act.actor is not None, "only a person joins"
    team = await team_by_invite(act.session, invite_code)
    if team is None:
        return act.refuse("join", "邀请码不对，请向队长确认后再试。", "team")
    person = act.actor
    if name:
        roster = await roster_member_named(act.session, team_id=team.id, name=name)
        if roster is not None and roster.id != person.id:
            return await open_claim(act, person=roster, team=team, platform=account.platform,
                                    external_id=account.external_id, display_name=display_name)
    if await is_member(act.session, team_id=team.id, person_id=person.id):
        return Joined(team, person, already=True)
    namesake = await roster_member_named(act.session, team_id=team.id, name=person.name)
    await add_member(act.session, team_id=team.id, person=person)
    # A volunteer now: the points account opens with the membership, not at the first 「我的」.
    await ensure_account(session=act.session, person_id=person.id, now=act.now)
    act.audit("join", "team", team.id, person_id=person.id)
    # A newcomer with a member's name is no proof of anything, but the captain should know.
    note = "（注意：队里已有一位同名队员，这是一个新账号、新队员。）" if namesake is not None else ""
    for captain in await captains_of(act.session, team.id):
        if captain.id != person.id:
            await act.notify.person(captain, f"新队员 {person.name} 加入了「{team.name}」。{note}")
    return Joined(team, person)


@domain_action("link_contact")
async def link_contact(act: Act, *, phone: str | None, account: Account) -> ContactOutcome | Refused:
    """Link the account to the roster person with the phone the platform proved (None: it proved none)."""
    assert act.actor is not None, "only a person shares their contact"
    if not phone:
        return act.refuse("link_contact", "只能分享您本人的手机号：请点下面的按钮，而不是转发别人的名片。")
    roster = await person_with_phone(act.session, phone)
    if roster is None:
        await keep_phone(act.session, act.actor, phone)
        act.audit("link_contact", "person", act.actor.id, outcome="not_on_roster")
        return ContactOutcome(Linked.not_on_roster)
    if roster.id == act.actor.id:
        return ContactOutcome(Linked.already, roster)
    await link_account(act, platform=account.platform, external_id=account.external_id, person=roster,
                       method="contact", previous=act.actor_id)
    return ContactOutcome(Linked.linked, roster, await team_names_of(act.session, roster.id))
