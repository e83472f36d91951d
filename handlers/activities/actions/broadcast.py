"""Speaking to a team and choosing what reaches me: 广播, 免打扰, 开启通知.

A broadcast goes to the team's bound groups first (one message there reaches everyone) and
then, as direct messages, to members who have not opted out — all through the outbox, so
the relay's rate limiter paces it. Only the team's captain(s), or admins over the team's
unit, may broadcast.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.act import Act, Refused, domain_action
from handlers.core.rights import captained_team_ids, may_lead
from storage.models import Team
from storage.people.groups import group_count
from storage.people.network import muted_member_count
from storage.people.people import set_dm_opt_in


@dataclass(frozen=True)
class Broadcast:
    """Where a broadcast went: group chats, direct messages, and members it could not reach directly."""

    team: Team
    groups: int
    direct: int
    muted: int


@domain_action("broadcast")
async def broadcast(act: Act, *, team: Team, content: str) -> Broadcast | Refused:
    """Send `content` to a team the actor leads, signed with their name and role."""
    if act.actor is None or not await may_lead(act, team):
        return act.refuse("broadcast", f"只有「{team.name}」的队长可以向它广播。", "team", team.id)
    role = "队长" if team.id in await captained_team_ids(act) else "管理员"
    groups = await group_count(act.session, team.id)
    muted = await muted_member_count(act.session, team.id, excluding=act.actor.id)
    reached = await act.notify.team(team, f"📢「{team.name}」{role} {act.actor.name}：\n{content}",
                                    ref=f"broadcast:{team.id}", exclude_person_ids={act.actor.id})
    act.audit("broadcast", "team", team.id, groups=groups, direct=reached - groups, chars=len(content))
    return Broadcast(team, groups, reached - groups, muted)


@domain_action("dm_opt_out")
async def opt_out_of_dms(act: Act) -> bool:
    """Stop direct messages for broadcasts, new tasks and new activities (免打扰); False if already off."""
    assert act.actor is not None, "only a person mutes"
    if not act.actor.dm_opt_in:
        return False
    await set_dm_opt_in(act.session, act.actor, False)
    act.audit("dm_opt_out", "person", act.actor.id)
    return True


@domain_action("dm_opt_in")
async def opt_in_to_dms(act: Act) -> bool:
    """Receive those direct messages again (开启通知); False if they were on."""
    assert act.actor is not None, "only a person unmutes"
    if act.actor.dm_opt_in:
        return False
    await set_dm_opt_in(act.session, act.actor, True)
    act.audit("dm_opt_in", "person", act.actor.id)
    return True
