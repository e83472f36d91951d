"""`xinfeng wecom customer-groups` and `xinfeng wecom bind-customer-group TEAM_CODE 群名`.

The first reads, from WeCom, the customer groups (客户群: ordinary WeChat groups owned by WeCom
members) and prints each one's name, owner and member count, and the team it serves; the
second is an admin's binding of one to a team (audited like the captain's 绑定客户群).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.settings import Settings


def add_commands(wecom_sub: Any) -> None:
    """Register the customer-group sub-commands under `xinfeng wecom`."""
    listing = wecom_sub.add_parser("customer-groups", help="list the WeCom customer groups: name, owner, members")
    listing.set_defaults(run=_list)
    bind = wecom_sub.add_parser("bind-customer-group",
                                help="bind a customer group to a team: xinfeng wecom bind-customer-group TEAM_CODE 群名")
    bind.add_argument("team_code")
    bind.add_argument("group_name")
    bind.set_defaults(run=_bind)


def _configured(settings: Settings) -> bool:
    if settings.wecom_corp_id and settings.wecom_secret:
        return True
    print("请先设置 XINFENG_WECOM_CORP_ID 和 XINFENG_WECOM_SECRET。", file=sys.stderr)
    return False


async def _list(settings: Settings, args: argparse.Namespace) -> int:
    """Refresh the customer groups from WeCom and print them."""
    from bot.channels.wechat.api import WeChatApiError
    from bot.channels.wecom.channel import wecom_api
    from bot.channels.wecom.customer_groups import CustomerGroupsApi
    from bot.channels.wecom.group_sender import CustomerGroupSender
    from bot.runtime import build_runtime, migrate
    from storage.people.customer_groups import bound_team, known_groups

    if not _configured(settings):
        return 2
    await migrate(settings)
    rt = await build_runtime(settings)
    api = wecom_api(settings, rt.clock, rt.redis)
    try:
        sender = CustomerGroupSender(rt.sessions, rt.clock, CustomerGroupsApi(api), tz=settings.tz)
        try:
            await sender.refresh()
        except WeChatApiError as exc:
            print(f"没有读到客户群：{exc}", file=sys.stderr)
            return 1
        async with rt.sessions() as session:
            groups = await known_groups(session)
            lines = []
            for g in groups:
                team = await bound_team(session, g.chat_id)
                lines.append(f"{g.name}\t群主 {g.owner}\t{g.member_count} 人\t{team.name if team else '（未绑定）'}")
    finally:
        await api.http.aclose()
        await rt.close()
    print("\n".join(lines) if lines else "企业微信里还没有客户群。")
    return 0


async def _bind(settings: Settings, args: argparse.Namespace) -> int:
    """Bind the customer group named `group_name` to the team `team_code` (as an admin)."""
    from bot.runtime import build_runtime, migrate
    from handlers.core.act import Act, Refused
    from handlers.people.actions.customer_groups import bind_customer_group
    from storage.people.customer_groups import groups_named
    from storage.people.network import teams_named

    await migrate(settings)
    rt = await build_runtime(settings)
    try:
        async with rt.sessions() as session:
            team = next((t for t in await teams_named(session, args.team_code) if t.code == args.team_code), None)
            if team is None:
                print(f"没有队伍代码为「{args.team_code}」的队伍。", file=sys.stderr)
                return 1
            found = await groups_named(session, args.group_name)
            if len(found) != 1:
                what = "没有" if not found else f"有 {len(found)} 个"
                print(f"{what}叫「{args.group_name}」的客户群（先运行 xinfeng wecom customer-groups 同步）。", file=sys.stderr)
                return 1
            act = Act(session=session, now=rt.clock.now(), tz=settings.tz)
            outcome = await bind_customer_group(act, team=team, group=found[0], owner=None)
            await session.commit()
    finally:
        await rt.close()
    if isinstance(outcome, Refused):
        print(outcome.reason, file=sys.stderr)
        return 1
    print(f"客户群「{found[0].name}」已绑定到「{team.name}」。")
    return 0
