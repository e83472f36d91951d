"""`xinfeng wechat menu` and `xinfeng wecom group TEAM_CODE`: one-off WeChat set-up by hand.

`wechat menu` installs the Official Account's custom menu (点单 / 我的 / 更多); each click
sends its key, which is a command text, so the menu runs the same handlers as typing.
`wecom group` creates a team's WeCom group chat (appchat) with its members on WeCom and binds
it to the team. Both use the running bot's shared access_token when Redis is configured (a
fresh Official Account token would otherwise invalidate the workers' one).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.settings import Settings


def add_commands(sub: Any) -> None:
    """Register the `wechat` and `wecom` sub-commands on the main parser."""
    wechat = sub.add_parser("wechat", help="WeChat Official Account set-up")
    wechat_sub = wechat.add_subparsers(dest="wechat_action", required=True)
    menu = wechat_sub.add_parser("menu", help="install the custom menu (点单 / 我的 / 更多)")
    menu.add_argument("--print", action="store_true", help="print the menu JSON instead of installing it")
    menu.set_defaults(run=_menu)
    wecom = sub.add_parser("wecom", help="WeCom app set-up")
    wecom_sub = wecom.add_subparsers(dest="wecom_action", required=True)
    group = wecom_sub.add_parser("group", help="create and bind a team's WeCom group chat: xinfeng wecom group TEAM_CODE")
    group.add_argument("team_code")
    group.set_defaults(run=_group)
    from bot.cli import customer_groups  # `wecom customer-groups`, `wecom bind-customer-group` (issue 17)

    customer_groups.add_commands(wecom_sub)


async def _menu(settings: Settings, args: argparse.Namespace) -> int:
    """Install the Official Account's menu (or print it with `--print`)."""
    from bot.channels.wechat.api import WeChatApiError
    from bot.channels.wechat.channel import DEFAULT_MENU, official_account_api
    from storage.clock import SystemClock

    if args.print:
        print(json.dumps(DEFAULT_MENU, ensure_ascii=False, indent=2))
        return 0
    if not (settings.wechat_app_id and settings.wechat_app_secret):
        print("请先设置 XINFENG_WECHAT_APP_ID 和 XINFENG_WECHAT_APP_SECRET。", file=sys.stderr)
        return 2
    redis = None
    if settings.redis_url:
        import redis.asyncio as redis_asyncio

        redis = redis_asyncio.from_url(settings.redis_url)
    api = official_account_api(settings, SystemClock(), redis)
    try:
        await api.call("/cgi-bin/menu/create", json_body=DEFAULT_MENU)
    except WeChatApiError as exc:
        print(f"菜单没有装上：{exc}", file=sys.stderr)
        return 1
    finally:
        await api.http.aclose()
        if redis is not None:
            await redis.aclose()
    names = " / ".join(b["name"] for b in DEFAULT_MENU["button"])
    print(f"已安装公众号菜单：{names}")
    return 0


async def _group(settings: Settings, args: argparse.Namespace) -> int:
    """Create a team's WeCom group chat with its members and bind it to the team."""
    from bot.channels.wechat.api import WeChatApiError
    from bot.channels.wecom.channel import WeComChannel
    from bot.runtime import build_runtime, migrate
    from storage.people.network import teams_named

    team_code = args.team_code
    if not (settings.wecom_corp_id and settings.wecom_secret and settings.wecom_agent_id is not None
            and settings.wecom_token and settings.wecom_aes_key):
        print("请先设置 XINFENG_WECOM_CORP_ID、_AGENT_ID、_SECRET、_TOKEN 和 _AES_KEY。", file=sys.stderr)
        return 2
    await migrate(settings)
    rt = await build_runtime(settings)
    channel = WeComChannel.from_runtime(settings, rt, lambda: None)
    try:
        async with rt.sessions() as session:
            team = next((t for t in await teams_named(session, team_code) if t.code == team_code), None)
        if team is None:
            print(f"没有队伍代码为「{team_code}」的队伍。", file=sys.stderr)
            return 1
        try:
            chat_id = await channel.create_team_group(team.id)
        except (ValueError, WeChatApiError) as exc:
            print(f"没有建群：{exc}", file=sys.stderr)
            return 1
    finally:
        await channel.stop()
        await rt.close()
    print(f"「{team.name}」的企业微信群已建好并绑定（群号 {chat_id}）。")
    return 0
