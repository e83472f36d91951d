"""Binding a group chat to a team (绑定群) and unbinding it (解绑群).

Only a captain of the team may bind, and only from inside the group itself (the command
checks where it came from), so nobody can point a team's tasks — and the buttons that hand
out residents' requests — at a chat they do not sit in. A group serves one team.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.act import Act, Refused, domain_action
from handlers.core.rights import captained_team_ids
from storage.db import load
from storage.models import Team
from storage.people.groups import bind_chat, binding_of_chat, group_count, unbind_chat
from storage.people.network import teams_by_ids


@dataclass(frozen=True)
class Chat:
    """A group chat: the platform and the chat's id there."""

    platform: str
    chat_id: str


@dataclass(frozen=True)
class ChooseTeam:
    """The captain leads several teams and named none of them (or several): which one?"""

    teams: list[Team]


@dataclass(frozen=True)
class GroupBound:
    """The group serves `team` (`already` when it did before); the team now has `groups` groups."""

    team: Team
    groups: int = 1
    already: bool = False


@dataclass(frozen=True)
class BindRaced:
    """Another captain bound the group a moment ago."""


@dataclass(frozen=True)
class GroupUnbound:
    """The group no longer serves the team called `team_name`."""

    team_name: str


def _matches(team: Team, query: str) -> bool:
    q = query.strip().lower()
    return q in (team.code.lower(), team.name.lower()) or q in team.name.lower()


async def _team_to_bind(act: Act, query: str, teams: list[Team]) -> Team | ChooseTeam | Refused:
    """The captain's team `query` names; a choice when that is unclear; a refusal for a team not theirs."""
    if len(teams) == 1 and (not query or _matches(teams[0], query)):
        return teams[0]
    hits = [t for t in teams if _matches(t, query)] if query else []
    if len(hits) == 1:
        return hits[0]
    if query and not hits:
        return act.refuse("bind_group", f"您不是「{query}」的队长，不能把本群绑定给它。您是这些队伍的队长："
                      + "、".join(t.name for t in teams))
    return ChooseTeam((hits or teams)[:8])


@domain_action("bind_group")
async def bind_group(act: Act, *, chat: Chat, query: str) -> GroupBound | ChooseTeam | BindRaced | Refused:
    """Bind the group chat to the actor's team that `query` names (blank: their only team)."""
    captained = await captained_team_ids(act)
    if not captained:
        return act.refuse("bind_group", "只有队长可以把群绑定到队伍。请队长在群里发送 /bindgroup。")
    team = await _team_to_bind(act, query, await teams_by_ids(act.session, sorted(captained)))
    if not isinstance(team, Team):
        return team
    existing = await binding_of_chat(act.session, platform=chat.platform, chat_id=chat.chat_id)
    if existing is not None and existing.team_id == team.id:
        return GroupBound(team, already=True)
    if existing is not None:
        other: Team | None = await load(act.session, Team, existing.team_id)
        name = other.name if other else "另一支队伍"
        return act.refuse("bind_group", f"本群已经绑定了「{name}」。一个群只能服务一支队伍，"
                      f"如需改绑，请「{name}」的队长先发送 /unbindgroup。", "team", team.id)
    if await bind_chat(act.session, team_id=team.id, platform=chat.platform, chat_id=chat.chat_id,
                       title=f"{team.name}群") is None:
        return BindRaced()
    act.audit("bind_group", "team", team.id, platform=chat.platform, chat_id=chat.chat_id)
    return GroupBound(team, await group_count(act.session, team.id))


@domain_action("unbind_group")
async def unbind_group(act: Act, *, chat: Chat) -> GroupUnbound | Refused | None:
    """Unbind the group chat from its team (that team's captain only); None when it serves no team."""
    existing = await binding_of_chat(act.session, platform=chat.platform, chat_id=chat.chat_id)
    if existing is None:
        return None
    team: Team | None = await load(act.session, Team, existing.team_id)
    name = team.name if team else "该队伍"
    if existing.team_id not in await captained_team_ids(act):
        return act.refuse("unbind_group", f"只有「{name}」的队长可以解绑本群。", "team", existing.team_id)
    await unbind_chat(act.session, existing)
    act.audit("unbind_group", "team", existing.team_id, platform=chat.platform, chat_id=chat.chat_id)
    return GroupUnbound(name)
