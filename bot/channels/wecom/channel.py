"""The WeCom (企业微信) channel: a self-built app's `/wecom` callback, app messages, team group chats.

Members talk to the app; its callbacks are always encrypted and handled like the Official
Account's (`CallbackChannel`). A team's WeCom group is an app chat (`appchat/create`) bound
as the team's group, so a task or a captain's broadcast reaches everyone with one
`appchat/send`. WeCom shows no buttons in either: the group sees "回复 1 接单", and a member
accepts by replying to the app ("1" means the newest choices shown to them or their groups).

WeCom silently drops app messages beyond about 30 a minute and 1,000 an hour to one member,
so each member message first takes a slot of the shared rate limiter (`bot/delivery/ratelimit.py`);
a wait beyond a minute is reported as `Throttled`, and the relay holds the row back until then.

Pictures and files follow the text as temporary media (media/upload) and an image or file
message: an image up to 10 MB, a file up to 20 MB (WeCom's limits); a larger file becomes a
one-time dashboard link (`bot.dashboard.SentFileLinks`) in a text message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.channels.wechat.api import (
    WeChatApiClient,
    WeChatApiError,
    build_api,
)
from bot.channels.wechat.callbacks import CallbackCodec
from bot.channels.wechat.channel import CallbackChannel, api_outcome
from bot.channels.wechat.replies import numbered_text
from bot.dashboard import SentFileLinks, link_note
from bot.delivery.failover import FailoverRateLimiter, limiter_for
from bot.delivery.ratelimit import Limit, RateLimiter
from bot.settings import Settings
from handlers.core.messages import Attachment, OutboundMessage
from storage.clock import Clock
from storage.messaging.outcomes import (
    Delivered,
    DeliveryOutcome,
    RecipientGone,
    Refused,
    TemporaryFailure,
    Throttled,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.runtime import Runtime

log = logging.getLogger(__name__)

PLATFORM = "wecom"
MEMBER_PER_MINUTE = 30
MEMBER_PER_HOUR = 1000
# A member over the per-minute limit waits in its own lane; beyond this (the hourly limit)
# the row is handed back to the relay instead of holding a lane for up to an hour.
MAX_LANE_WAIT_SECONDS = 61.0
# The recipient is gone — 81013: no valid recipient; 40003: bad user id (left the company or
# the app's scope); 86003: the group chat no longer exists.
GONE = frozenset({40003, 81013, 86003})
# Temporary media limits: an image (JPG, PNG) up to 10 MB, any file up to 20 MB.
IMAGE_LIMIT = 10 * 2**20
FILE_LIMIT = 20 * 2**20
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

    def __init__(self, *, agent_id: int, corp_id: str, limiter: RateLimiter, links: SentFileLinks | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("path", "/wecom")
        super().__init__(**kwargs)
        self.agent_id = agent_id
        self.corp_id = corp_id
        self.limiter = limiter
        self.links = links

    @classmethod
    def from_runtime(cls, settings: Settings, rt: Runtime, kick: Callable[[], None]) -> WeComChannel:
        """Build from `XINFENG_WECOM_*` settings; with Redis, every worker shares token and limits."""
        api = wecom_api(settings, rt.clock, rt.redis)
        # Shared through Redis; while Redis is away, this worker's share (bot.delivery.failover).
        limiter: RateLimiter = limiter_for(rt.redis)
        codec = CallbackCodec(token=settings.wecom_token or "", receiver_id=settings.wecom_corp_id or "",
                              aes_key=settings.wecom_aes_key, wecom=True)
        channel = cls(engine=rt.engine, api=api, codec=codec, kick=kick, budget=settings.wechat_reply_budget,
                      agent_id=int(settings.wecom_agent_id or 0), corp_id=settings.wecom_corp_id or "",
                      limiter=limiter, links=SentFileLinks(rt.sessions, rt.clock, settings.public_base_url))
        if isinstance(limiter, FailoverRateLimiter):
            limiter.stats = channel.kit.stats
            limiter.workers = channel.kit.live_workers
        return channel

    def accepts(self, fields: dict[str, Any]) -> bool:
        """Only callbacks for this app (several apps of a corp may share a URL)."""
        agent = fields.get("AgentID")
        return agent in (None, "") or str(agent) == str(self.agent_id)

    async def send(self, message: OutboundMessage) -> DeliveryOutcome:
        """Into a bound team group by app chat, else to a member as an app message, files after; the outcome."""
        address = message.address
        if not address:
            return Refused("no WeCom address")
        text = {"content": numbered_text(message.text, message.buttons)}
        numbered = tuple(b.data for b in message.buttons)
        try:
            group = await self.kit.records.is_group_chat(address)
            if not group:
                limits = member_limits(self.agent_id, address)
                wait = await self.limiter.try_acquire_all(limits)
                if wait > MAX_LANE_WAIT_SECONDS:
                    return Throttled(wait, f"WeCom member limit: next slot in {wait:.0f}s")
                if wait > 0:
                    await self.limiter.acquire_all(limits)
            answer = await self._post(address, group, "text", text)
            if not group and address in str(answer.get("invaliduser") or "").split("|"):
                return RecipientGone(f"{address} is not a member the app can reach")
            for attachment in message.attachments:
                if not group:  # each file is a message of its own under the member's limits
                    await self.limiter.acquire_all(member_limits(self.agent_id, address))
                await self._send_file(address, group, message, attachment)
        except WeChatApiError as exc:
            return self._outcome(exc)
        msgid = answer.get("msgid")
        return Delivered(None if msgid is None else str(msgid), numbered=numbered)

    async def _post(self, address: str, group: bool, msgtype: str, content: dict[str, Any]) -> dict[str, Any]:
        """One message into a group chat or to a member."""
        if group:
            return await self.api.call("/cgi-bin/appchat/send", json_body={
                "chatid": address, "msgtype": msgtype, msgtype: content})
        return await self.api.call("/cgi-bin/message/send", json_body={
            "touser": address, "msgtype": msgtype, "agentid": self.agent_id, msgtype: content})

    async def _send_file(self, address: str, group: bool, message: OutboundMessage, attachment: Attachment) -> None:
        """An image or file message (uploaded first), or the link standing in for a file too large."""
        data = attachment.data
        if not data:
            return
        image = attachment.kind == "photo" and len(data) <= IMAGE_LIMIT and attachment.mime in ("image/png",
                                                                                                "image/jpeg")
        if image or len(data) <= FILE_LIMIT:
            kind = "image" if image else "file"
            media_id = await self.api.upload_media(kind, attachment.filename, attachment.mime, data)
            await self._post(address, group, kind, {"media_id": media_id})
            return
        url = await self.links.link(message) if self.links is not None and not group else None
        note = link_note(attachment.filename, len(data), url, "超过企业微信 20 MB 的上限")
        await self._post(address, group, "text", {"content": note})

    def _outcome(self, exc: WeChatApiError) -> DeliveryOutcome:
        found = api_outcome(exc, self.clock, self.kit.stats)
        if found is not None:
            return found
        if exc.errcode in GONE:
            return RecipientGone(str(exc))
        self.kit.stats["retried"] += 1
        return TemporaryFailure(str(exc))

    async def create_team_group(self, team_id: int) -> str:
        """Create the team's WeCom group chat with its members on WeCom and bind it; returns the chat id.

        Idempotent: a team already bound to a WeCom group keeps it. The captain (when on WeCom)
        owns the group. Raises ValueError when fewer than two members use WeCom.
        """
        roster = await self.kit.records.group_roster(team_id)
        if roster is None:
            raise ValueError(f"no team {team_id}")
        if roster.bound_chat_id is not None:
            return roster.bound_chat_id
        members = roster.members[:GROUP_MAX]
        if len(members) < GROUP_MIN:
            raise ValueError(f"「{roster.team_name}」只有 {len(members)} 名队员在用企业微信，建群至少需要 {GROUP_MIN} 人")
        owner = next((m for m in members if m in roster.captains), members[0])
        # Deterministic, and only [0-9a-zA-Z] as WeCom requires: a retry names the same chat.
        chat_id = f"xfteam{roster.team_id}"
        await self.api.call("/cgi-bin/appchat/create", json_body={
            "name": roster.team_name[:50], "owner": owner, "userlist": members, "chatid": chat_id})
        await self.kit.records.bind_group(roster.team_id, chat_id, roster.team_name)
        log.info("created WeCom group %s for team %s with %d members", chat_id, roster.team_code, len(members))
        return chat_id


def wecom_api(settings: Settings, clock: Clock, redis: Redis | None = None) -> WeChatApiClient:
    """The WeCom app's API client; its token is shared through Redis when given."""
    return build_api(name=f"wecom:{settings.wecom_corp_id}:{settings.wecom_agent_id}",
                     base_url=settings.wecom_api_url, clock=clock, redis=redis, wecom=True,
                     account_id=settings.wecom_corp_id or "", secret=settings.wecom_secret or "")
