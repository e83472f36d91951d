"""Binding a WeCom customer group (客户群) to a team: the captain who owns it, or an admin.

A customer group is an ordinary WeChat group whose owner is a WeCom member; the app can only
ask that owner to send into it (a group-message task they confirm). So a captain binds only a
group they own — otherwise their confirmations could never reach it — and the team's
broadcasts, activities, wishes and the moral day then go there as tasks for the owner.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.act import Act, Refused, domain_action
from handlers.core.rights import may_lead
from storage.models import CustomerGroup, Team
from storage.people.customer_groups import bind_customer_group as bind, bound_team


@dataclass(frozen=True)
class CustomerGroupBound:
    """The group now serves `team` (`already` when it did before)."""

    team: Team
    group: CustomerGroup
    already: bool = False


@domain_action("customer_group_bind")
async def bind_customer_group(act: Act, *, team: Team, group: CustomerGroup,
                              owner: str | None) -> CustomerGroupBound | Refused:
    """Bind `group` to `team`; `owner` is the WeCom account asking (None: an admin at the CLI)."""
    if act.actor is not None and not await may_lead(act, team):
        return act.refuse("customer_group_bind", f"只有「{team.name}」的队长可以给它绑定客户群。", "team", team.id)
    if owner is not None and group.owner != owner:
        return act.refuse("customer_group_bind", f"「{group.name}」的群主不是您：只有群主能确认发到这个群的群发。",
                          "team", team.id)
    holder = await bound_team(act.session, group.chat_id)
    if holder is not None:
        if holder.id == team.id:
            return CustomerGroupBound(team, group, already=True)
        return act.refuse("customer_group_bind", f"「{group.name}」已经绑定给「{holder.name}」了。", "team", team.id)
    if await bind(act.session, team_id=team.id, group=group) is None:
        return act.refuse("customer_group_bind", f"「{group.name}」刚刚被绑定给别的队伍了。", "team", team.id)
    act.audit("customer_group_bind", "team", team.id, chat_id=group.chat_id, group=group.name,
              members=group.member_count)
    return CustomerGroupBound(team, group)
