"""The WeCom (企业微信) channel: a self-built app's `/wecom` callback, app messages, team group chats.

Members talk to the app; its callbacks are always encrypted and handled like the Official
Account's (`CallbackChannel`). A team's WeCom group is an app chat (`appchat/create`) bound
as the team's group, so a task or a captain's broadcast reaches everyone with one
`appchat/send`. WeCom shows no buttons in either: the group sees "回复 1 接单", and a member
accepts by replying to the app ("1" means the newest choices shown to them or their groups).

WeCom silently drops app messages beyond about 30 a minute and 1,000 an hour to one member,
so each member message first takes a slot of the shared rate limiter (`bot/ratelimit.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.channels.wechat.channel import CallbackChannel
from bot.channels.wechat.replies import numbered_text, remember_choices
from bot.channels.wechat.api import QuotaExceeded, WeChatApiClient, WeChatApiError, build_api
from bot.channels.wechat.callbacks import CallbackCodec
from bot.delivery.ratelimit import Limit, MemoryRateLimiter, RateLimiter, RedisRateLimiter
from bot.delivery.relay import DeliveryError
from handlers.core.messages import OutboundMessage
from storage.clock import Clock
from storage.models import ChannelIdentity, RoleGrant, Team, TeamGroup, TeamMember
from storage.messaging.wechat import is_group_chat

log = logging.getLogger(__name__)

PLATFORM = "wecom"
MEMBER_PER_MINUTE = 30
MEMBER_PER_HOUR = 1000
# A member over the per-minute limit waits in its own lane; beyond this (the hourly limit)
# the row is handed back to the relay instead of holding a lane for up to an hour.
MAX_LANE_WAIT_SECONDS = 61.0
# 81013: no valid recipient; 86003: the group chat no longer exists; 40003: bad user id.
PERMANENT = frozenset({40003, 81013, 86003})
NOT_A_MEMBER = frozenset({40003, 81013})
# appchat/create takes 2 to 500 members.
GROUP_MIN, GROUP_MAX = 2, 500


def member_limits(agent_id: int, user_id: str) -> list[Limit]:
    """The per-member limits WeCom enforces by dropping: 30 a minute, 1,000 an hour."""
    base = f"wecom:{agent_id}:{user_id}"
    return [Limit(f"{base}:minute", MEMBER_PER_MINUTE, 60.0), Limit(f"{base}:hour", MEMBER_PER_HOUR, 3600.0)]


class WeComChannel(CallbackChannel):
    """One WeCom app: `/wecom` callbacks, app messages to members, messages into team groups."""

    platform = PLATFORM
    tracks_window = False
    # One delivery lane per chat: a member waiting for their limit does not hold up the others.
    concurrency = 8

    def __init__(self, *, agent_id: int, corp_id: str, limiter: RateLimiter, **kwargs: Any) -> None:
        kwargs.setdefault("path", "/wecom")
        super().__init__(**kwargs)
        self.agent_id = agent_id
        self.corp_id = corp_id
        self.limiter = limiter

    @classmethod
    def from_settings(cls, settings: Any, rt: Any, kick: Callable[[], object]) -> WeComChannel:
        """Build from `XINFENG_WECOM_*` settings; with Redis, every worker shares token and limits."""
        api = wecom_api(settings, rt.clock, rt.redis)
        limiter: RateLimiter = RedisRateLimiter(rt.redis) if rt.redis is not None else MemoryRateLimiter()
        codec = CallbackCodec(token=settings.wecom_token, receiver_id=settings.wecom_corp_id,
                              aes_key=settings.wecom_aes_key, wecom=True)
        return cls(engine=rt.engine, sessions=rt.sessions, clock=rt.clock, api=api, codec=codec, kick=kick,
                   budget=settings.wechat_reply_budget, agent_id=int(settings.wecom_agent_id),
                   corp_id=settings.wecom_corp_id, limiter=limiter)

    def accepts(self, fields: dict[str, Any]) -> bool:
        """Only callbacks for this app (several apps of a corp may share a URL)."""
        agent = fields.get("AgentID")
        return agent in (None, "") or str(agent) == str(self.agent_id)

    async def send(self, message: OutboundMessage) -> str | None:
        """Into a bound team group by app chat, else to a member as an app message."""
        address = message.address
        if not address:
            raise DeliveryError("no WeCom address", retryable=False)
        now = self.clock.now()
        async with self.sessions() as session:
            group = await is_group_chat(session, platform=PLATFORM, chat_id=address)
            await remember_choices(session, platform=PLATFORM, chat_id=address, buttons=message.buttons, now=now)
            await session.commit()
        text = {"content": numbered_text(message.text, message.buttons)}
        if group:
            await self._call("/cgi-bin/appchat/send", {"chatid": address, "msgtype": "text", "text": text})
            return None
        limits = member_limits(self.agent_id, address)
        wait = await self.limiter.try_acquire_all(limits)
        if wait > MAX_LANE_WAIT_SECONDS:
            raise DeliveryError(f"WeCom member limit: next slot in {wait:.0f}s", retryable=True)
        if wait > 0:
            await self.limiter.acquire_all(limits)
        answer = await self._call("/cgi-bin/message/send", {"touser": address, "msgtype": "text",
                                                            "agentid": self.agent_id, "text": text},
                                  member=address)
        if address in str(answer.get("invaliduser") or "").split("|"):
            await self._mark(address, reachable=False)
            raise DeliveryError(f"{address} is not a member the app can reach", retryable=False)
        msgid = answer.get("msgid")
        return None if msgid is None else str(msgid)

    async def _call(self, path: str, body: dict[str, Any], member: str | None = None) -> dict[str, Any]:
        try:
            return await self.api.call(path, json_body=body)
        except QuotaExceeded as exc:
            raise DeliveryError(f"{exc} (until {exc.until.isoformat()})", retryable=True) from None
        except WeChatApiError as exc:
            if member is not None and exc.errcode in NOT_A_MEMBER:
                await self._mark(member, reachable=False)  # left the company or the app's scope
            raise DeliveryError(str(exc), retryable=exc.errcode not in PERMANENT) from None

    async def create_team_group(self, team_id: int) -> str:
        """Create the team's WeCom group chat with its members on WeCom and bind it; returns the chat id.

        Idempotent: a team already bound to a WeCom group keeps it. The captain (when on WeCom)
        owns the group. Raises ValueError when fewer than two members use WeCom.
        """
        async with self.sessions() as session:
            team = await session.get(Team, team_id)
            if team is None:
                raise ValueError(f"no team {team_id}")
            bound = (await session.execute(
                select(TeamGroup.chat_id).where(TeamGroup.team_id == team_id, TeamGroup.platform == PLATFORM)
            )).scalars().first()
            if bound is not None:
                return bound
            members = list((await session.execute(
                select(ChannelIdentity.external_id)
                .join(TeamMember, TeamMember.person_id == ChannelIdentity.person_id)
                .where(TeamMember.team_id == team_id, ChannelIdentity.platform == PLATFORM,
                       ChannelIdentity.reachable.is_(True))
                .order_by(ChannelIdentity.id)
            )).scalars().all())
            captains = set((await session.execute(
                select(ChannelIdentity.external_id)
                .join(RoleGrant, RoleGrant.person_id == ChannelIdentity.person_id)
                .where(RoleGrant.role == "captain", RoleGrant.team_id == team_id,
                       ChannelIdentity.platform == PLATFORM)
            )).scalars().all())
        members = list(dict.fromkeys(members))[:GROUP_MAX]
        if len(members) < GROUP_MIN:
            raise ValueError(f"「{team.name}」只有 {len(members)} 名队员在用企业微信，建群至少需要 {GROUP_MIN} 人")
        owner = next((m for m in members if m in captains), members[0])
        # Deterministic, and only [0-9a-zA-Z] as WeCom requires: a retry names the same chat.
        chat_id = f"xfteam{team.id}"
        await self.api.call("/cgi-bin/appchat/create", json_body={
            "name": team.name[:50], "owner": owner, "userlist": members, "chatid": chat_id})
        async with self.sessions() as session:
            try:
                async with session.begin_nested():
                    session.add(TeamGroup(team_id=team.id, platform=PLATFORM, chat_id=chat_id, title=team.name))
            except IntegrityError:
                pass  # bound by a concurrent call a moment ago
            await session.commit()
        log.info("created WeCom group %s for team %s with %d members", chat_id, team.code, len(members))
        return chat_id


def wecom_api(settings: Any, clock: Clock, redis: Any = None) -> WeChatApiClient:
    """The WeCom app's API client; its token is shared through Redis when given."""
    return build_api(name=f"wecom:{settings.wecom_corp_id}:{settings.wecom_agent_id}",
                     base_url=settings.wecom_api_url, clock=clock, redis=redis, wecom=True,
                     account_id=settings.wecom_corp_id, secret=settings.wecom_secret)
