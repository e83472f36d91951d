"""换邀请码: a captain (or an admin over the team) replaces the team's invite code; audited.

The old code stops working at once; requests already opened with it still wait for their
approver. The team's other captains hear of it, with the new code, so nobody hands out the old one.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.act import Act, Refused, domain_action
from handlers.core.rights import may_lead
from storage.models import Team
from storage.people.invites import rotate_invite_code
from storage.people.network import captains_of


@dataclass(frozen=True)
class Rotated:
    """The team's invite code was replaced: the old one and the new one."""

    team: Team
    old: str
    new: str


@domain_action("invite_rotate")
async def rotate_invite(act: Act, team: Team) -> Rotated | Refused:
    """Give a team a new invite code (its captain, or an admin over its unit)."""
    if act.actor is None or not await may_lead(act, team):
        return act.refuse("invite_rotate", f"只有「{team.name}」的队长或它所在地区的管理员可以换邀请码。", "team", team.id)
    old = team.invite_code
    new = await rotate_invite_code(act.session, team)
    act.audit("invite_rotate", "team", team.id, old=old, new=new)
    for captain in await captains_of(act.session, team.id):
        if captain.id != act.actor_id:
            await act.notify.person(captain, f"「{team.name}」的邀请码已由 {act.actor.name} 换成 {new}，"
                                             f"旧的 {old} 不能再用了。")
    return Rotated(team, old, new)
