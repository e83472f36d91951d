"""The WeChat Official Account (公众号) channel: `/wechat` callbacks in, messages out.

Callbacks (GET URL verification, POST messages; plain or encrypted 安全模式) are verified by
`callbacks`, translated into one `InboundMessage` and stored and handled through the channel
kit within the reply budget (`replies`); what was stored but not handled (a crash) is
handled by the kit's sweeper. Outbound, WeChat allows customer-service messages only within
48 hours of the user's last action (and only so many per window), so each message takes a
slot of the user's window; outside it a template message is sent (template ids per kind of
notification), and when neither is possible the outcome is `Refused` and the relay keeps the
row as undeliverable. Menu clicks send their key, which is a command text; `subscribe` runs
`/follow`. Nothing here writes to the database except through the kit's records.

Pictures and files: inside the window a picture is uploaded as temporary media (up to 10 MB)
and sent as an image message, each taking its own slot of the window. An Official Account has
no file messages, so a file (or a picture over 10 MB) goes as a link card (news) to a one-time
dashboard link (`bot.dashboard.SentFileLinks`) that opens it; outside the window the template
message carries that link.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.base import ChannelKit, Sleeper, parser_warmed
from bot.channels.limits import clean_text
from bot.channels.wechat.api import (
    QuotaExceeded,
    WeChatApiClient,
    WeChatApiError,
    build_api,
)
from bot.channels.wechat.callbacks import CallbackCodec, CallbackRejected, render_xml
from bot.channels.wechat.qrcode import SceneCodes
from bot.channels.wechat.replies import REPLY_BUDGET_SECONDS, ReplyDesk, numbered_text
from bot.dashboard import SentFileLinks, link_note
from bot.settings import Settings
from handlers.core.engine import Engine
from handlers.core.messages import Attachment, Button, InboundMessage, Media, OutboundMessage
from storage.clock import Clock
from storage.messaging.outcomes import (
    Delivered,
    DeliveryOutcome,
    Postponed,
    RecipientGone,
    Refused,
    TemporaryFailure,
    Throttled,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.runtime import Runtime

log = logging.getLogger(__name__)

PLATFORM = "wechat"
CS_WINDOW = timedelta(hours=48)
# Customer-service messages per user per window; WeChat answers 45047 beyond it.
CS_LIMIT = 20
# 45015: outside the 48-hour window; 45047: the window's count is used up.
WINDOW_CLOSED = frozenset({45015, 45047})
NOT_SUBSCRIBED = 43004
# Codes that no retry can fix: bad openid, bad template id, refused content.
PERMANENT = frozenset({40003, 40037, 43004, 45002, 47001})
# WeChat's "slow down" answers and how long to wait: the API's per-minute quota (45011), WeCom's
# concurrent-call limit (45033), "system busy" (-1 from WeChat itself).
THROTTLE_SECONDS = {45011: 60.0, 45033: 2.0, -1: 5.0}
# When the API cannot be reached from here: try again after this long, no attempt counted.
OUR_SIDE_RETRY = 5.0
# Temporary media: an image up to 10 MB (PNG, JPEG, GIF); an Official Account has no file type.
IMAGE_LIMIT = 10 * 2**20
# Events that are the user doing something (they open the window); the rest are WeChat's.
USER_EVENTS = frozenset({"subscribe", "scan", "click", "view", "location"})

DEFAULT_MENU: dict[str, Any] = {
    "button": [
        {"type": "click", "name": "点单", "key": "点单"},
        {"type": "click", "name": "我的", "key": "我的"},
        {"name": "更多", "sub_button": [
            {"type": "click", "name": "帮助", "key": "帮助"},
            {"type": "click", "name": "统计", "key": "统计"},
        ]},
    ]
}


def notification_kind(message: OutboundMessage) -> str:
    """What a message is about, for choosing its template: the ref's prefix, else the row kind."""
    if message.ref:
        return message.ref.split(":", 1)[0]
    return message.kind


def template_data(text: str, buttons: list[Button]) -> dict[str, dict[str, str]]:
    """Template fields: `first` (the first line), `content` (everything), `remark` (how to answer)."""
    first, _, _ = text.partition("\n")
    remark = numbered_text("", buttons).strip() if buttons else "回复任意消息可继续和我对话。"
    return {"first": {"value": first}, "content": {"value": text}, "remark": {"value": remark}}


def inbound_from(fields: dict[str, Any], platform: str, prefix: str) -> InboundMessage | None:
    """One callback's fields as the core's message; None for what is no message (WeChat's own events).

    Every field loses its control characters first (`bot.channels.limits.clean_text`).
    """
    fields = {k: clean_text(v) if isinstance(v, str) else v for k, v in fields.items()}
    user = str(fields["FromUserName"])
    mtype = str(fields["MsgType"]).lower()
    message_id = str(fields.get("MsgId") or f"{user}:{fields['CreateTime']}")
    base: dict[str, Any] = {"platform": platform, "user_id": user, "chat_id": user, "message_id": message_id}
    media_id = str(fields.get("MediaId") or "")
    if mtype == "text":
        return InboundMessage(text=str(fields.get("Content", "")), **base)
    if mtype == "image":
        return InboundMessage(text="", media=(Media("photo", f"{prefix}:{media_id}"),), **base)
    if mtype == "voice":
        # With speech recognition on, WeChat sends the words too: they are the request.
        return InboundMessage(text=str(fields.get("Recognition") or ""),
                              media=(Media("voice", f"{prefix}:{media_id}"),), **base)
    if mtype in ("video", "shortvideo", "file"):
        return InboundMessage(text="", media=(Media("file", f"{prefix}:{media_id}"),), **base)
    if mtype == "location":
        where = f"{fields.get('Location_X', '')},{fields.get('Location_Y', '')}"
        return InboundMessage(text=str(fields.get("Label") or ""), media=(Media("location", where),), **base)
    if mtype == "link":
        return InboundMessage(text=f"{fields.get('Title', '')} {fields.get('Url', '')}".strip(), **base)
    if mtype != "event":
        return None
    event = str(fields.get("Event", "")).lower()
    key = str(fields.get("EventKey") or "")
    if event in ("subscribe", "scan"):
        # A parametric QR code ("qrscene_join_KJ2026") carries a deep link, as Telegram's /start does.
        scene = key.removeprefix("qrscene_")
        return InboundMessage(text=f"/follow {scene}".strip(), is_button=True, **base)
    if event == "click" and key:
        return InboundMessage(text=key, is_button=True, **base)
    return None


def _files_text(files: list[Attachment]) -> str:
    """「图表 map.png、chart.png」 or 「文件 工时.xlsx」: what a link stands for."""
    what = "图表" if all(a.kind == "photo" for a in files) else "文件"
    return f"{what} {'、'.join(a.filename for a in files)}"


def official_account_api(settings: Settings, clock: Clock, redis: Redis | None = None) -> WeChatApiClient:
    """The Official Account's API client; its token is shared through Redis when given."""
    return build_api(name=f"oa:{settings.wechat_app_id}", base_url=settings.wechat_api_url, clock=clock,
                     redis=redis, wecom=False, account_id=settings.wechat_app_id or "",
                     secret=settings.wechat_app_secret or "")


def quota_outcome(exc: QuotaExceeded, clock: Clock) -> Throttled:
    """A used-up daily quota: the row waits until the API's back-off ends, no attempt counted."""
    wait = max(0.0, (exc.until - clock.now()).total_seconds())
    return Throttled(wait, f"{exc} (until {exc.until.isoformat()})")


def api_outcome(exc: WeChatApiError, clock: Clock, stats: Counter[str]) -> DeliveryOutcome | None:
    """What both channels make of throttles (WeChat's 429s) and of our own network; None for the rest.

    A throttle waits (no attempt counted) and is counted as `throttled`; the API unreachable from
    here (or the shared token store away) is our infrastructure: `Postponed`, counted as `retried`.
    """
    if isinstance(exc, QuotaExceeded):
        stats["throttled"] += 1
        return quota_outcome(exc, clock)
    if exc.errcode == -1 and exc.errmsg.startswith(("unreachable", "token store")):
        stats["retried"] += 1
        return Postponed(OUR_SIDE_RETRY, str(exc))
    if exc.errcode in THROTTLE_SECONDS:
        stats["throttled"] += 1
        return Throttled(THROTTLE_SECONDS[exc.errcode], str(exc))
    return None


class CallbackChannel:
    """What both WeChat channels do with callbacks: verify, translate, hand to the kit, answer."""

    platform = PLATFORM
    # Whether users' actions open a 48-hour customer-service window (the Official Account's rule).
    tracks_window = True

    def __init__(
        self,
        *,
        engine: Engine,
        api: WeChatApiClient,
        codec: CallbackCodec,
        kick: Callable[[], None] = lambda: None,
        budget: float = REPLY_BUDGET_SECONDS,
        path: str = "/wechat",
        inbound_concurrency: int = 16,
        sweep_interval: float = 5.0,
        sweep_wait: Sleeper = asyncio.sleep,
    ) -> None:
        self.clock = engine.clock
        self.api = api
        self.codec = codec
        self.path = path
        self.kit = ChannelKit(platform=self.platform, engine=engine, kick=kick, concurrency=inbound_concurrency,
                              sweep_interval=sweep_interval, sweep_wait=sweep_wait)
        self.desk = ReplyDesk(kit=self.kit, budget=budget, track_window=self.tracks_window)

    def routes(self) -> list[BaseRoute]:
        """GET verifies the callback URL, POST delivers messages and events."""
        return [Route(self.path, self.verify_url, methods=["GET"]),
                Route(self.path, self.callback, methods=["POST"])]

    async def start(self) -> None:
        """Load the request parser first (a cold first parse outlasts the reply budget); handle what a crash left."""
        await parser_warmed()
        await self.kit.start()

    async def stop(self) -> None:
        """Let late handlers finish (a while), then close the HTTP client."""
        await self.desk.drain(timeout=10.0)
        await self.kit.stop(timeout=10.0)
        await self.api.http.aclose()

    async def verify_url(self, request: Request) -> Response:
        """WeChat's URL check: answer the (decrypted) `echostr` when the signature is ours."""
        try:
            return PlainTextResponse(self.codec.echo(dict(request.query_params), self.clock.now()))
        except CallbackRejected as exc:
            log.warning("refused %s URL verification: %s", self.platform, exc.reason)
            return PlainTextResponse(exc.reason, status_code=exc.status)

    def accepts(self, fields: dict[str, Any]) -> bool:
        """Whether a verified callback is for this channel (WeCom: this app)."""
        return True

    async def callback(self, request: Request) -> Response:
        """One message or event: verified, stored, handled, answered within WeChat's 5 s."""
        try:
            opened = await self.codec.open(request, self.clock.now())
            fields = opened.fields
            if not all(isinstance(fields.get(k), str) and fields.get(k) for k in ("FromUserName", "MsgType")):
                raise CallbackRejected(400, "not a WeChat message")
            fields.setdefault("CreateTime", "0")
        except CallbackRejected as exc:
            log.warning("refused %s callback: %s", self.platform, exc.reason)
            return PlainTextResponse(exc.reason, status_code=exc.status)
        if not self.accepts(fields):
            return PlainTextResponse("success")
        user = str(fields["FromUserName"])
        event = str(fields.get("Event", "")).lower() if str(fields["MsgType"]).lower() == "event" else ""
        msg = inbound_from(fields, self.platform, self.platform)
        try:
            if event == "unsubscribe":
                await self.kit.records.recipient_gone(user, reason="unsubscribed",
                                                      event_id=f"{user}:{fields['CreateTime']}")
            elif event == "templatesendjobfinish" and "block" in str(fields.get("Status", "")):
                await self.kit.records.recipient_gone(user, reason="a template bounced: the user blocked us")
            elif msg is None and event in USER_EVENTS:
                await self.desk.note_action(user)  # a menu link opened, a location reported
            if msg is None:
                return PlainTextResponse("success")
            text = await self.desk.answer(msg)
        except Exception:  # nothing was stored: a 5xx makes WeChat retry it
            log.exception("could not store %s callback from %s", self.platform, user)
            return PlainTextResponse("retry", status_code=503)
        if text is None:
            return PlainTextResponse("success")
        reply = render_xml({"ToUserName": user, "FromUserName": str(fields.get("ToUserName", "")),
                            "CreateTime": int(self.clock.now().timestamp()), "MsgType": "text", "Content": text})
        return Response(self.codec.seal(opened, reply), media_type="application/xml")


class WeChatChannel(CallbackChannel):
    """One Official Account: `/wechat` callbacks, customer-service and template messages, menu."""

    platform = PLATFORM

    def __init__(self, *, template_ids: dict[str, str] | None = None, links: SentFileLinks | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.template_ids = dict(template_ids or {})
        self.links = links
        self.scene_codes = SceneCodes(self.api)  # deep-link QR requests (an invite) drawn as scene codes (qrcode.py)

    @classmethod
    def from_runtime(cls, settings: Settings, rt: Runtime, kick: Callable[[], None]) -> WeChatChannel:
        """Build from `XINFENG_WECHAT_*` settings and the runtime (its Redis shares the token)."""
        codec = CallbackCodec(token=settings.wechat_token or "", receiver_id=settings.wechat_app_id or "",
                              aes_key=settings.wechat_aes_key or None)
        return cls(engine=rt.engine, codec=codec, api=official_account_api(settings, rt.clock, rt.redis),
                   template_ids=settings.wechat_template_ids, kick=kick, budget=settings.wechat_reply_budget,
                   links=SentFileLinks(rt.sessions, rt.clock, settings.public_base_url))

    async def send(self, message: OutboundMessage) -> DeliveryOutcome:
        """A customer-service message inside the user's window, else a template message; the outcome."""
        user = message.address
        if not user:
            return Refused("no WeChat address")
        slot = await self.kit.records.take_window_slot(user, window=CS_WINDOW, limit=CS_LIMIT)
        if not slot.reachable:
            return RecipientGone("the user unsubscribed from the account")
        message = await self.scene_codes.draw(message)  # qrcode.py
        if slot.taken and slot.started is not None:
            text = numbered_text(message.text, message.buttons)
            try:
                await self.api.call("/cgi-bin/message/custom/send",
                                    json_body={"touser": user, "msgtype": "text", "text": {"content": text}})
            except WeChatApiError as exc:
                if exc.errcode not in WINDOW_CLOSED:
                    await self.kit.records.return_window_slot(user, slot.started)
                    return self._outcome(exc)
                # Our count was off (the user was sent messages we did not see): a template instead.
                await self.kit.records.close_window(user, slot.started, CS_LIMIT)
            else:
                late = [a for a in message.attachments if not await self._send_in_window(user, message, a)]
                if late:  # the window closed (or its count ran out) between the text and the files
                    await self._send_template(replace(message, text=_files_text(late), buttons=[]), user)
                return Delivered(None, numbered=tuple(b.data for b in message.buttons))
        return await self._send_template(message, user)

    async def _send_in_window(self, user: str, message: OutboundMessage, attachment: Attachment) -> bool:
        """One file as a customer-service message (each its own slot); False when the window has no room."""
        if not attachment.data:
            return True
        slot = await self.kit.records.take_window_slot(user, window=CS_WINDOW, limit=CS_LIMIT)
        if not slot.taken or slot.started is None:
            return False
        try:
            if attachment.kind == "photo" and len(attachment.data) <= IMAGE_LIMIT:
                media_id = await self.api.upload_media("image", attachment.filename, attachment.mime, attachment.data)
                body: dict[str, Any] = {"touser": user, "msgtype": "image", "image": {"media_id": media_id}}
            else:
                url = await self.links.link(message) if self.links is not None else None
                why = "公众号不能直接发送文件" if len(attachment.data) <= IMAGE_LIMIT else "超过微信 10 MB 的上限"
                if url is None:
                    body = {"touser": user, "msgtype": "text",
                            "text": {"content": link_note(attachment.filename, len(attachment.data), None, why)}}
                else:  # a link card: the closest an Official Account comes to a file message
                    body = {"touser": user, "msgtype": "news", "news": {"articles": [{
                        "title": f"📎 {attachment.filename}", "url": url,
                        "description": "点击查看或下载（24 小时内有效，只能打开一次）"}]}}
            await self.api.call("/cgi-bin/message/custom/send", json_body=body)
            return True
        except WeChatApiError as exc:
            if exc.errcode in WINDOW_CLOSED:
                await self.kit.records.close_window(user, slot.started, CS_LIMIT)
                return False
            await self.kit.records.return_window_slot(user, slot.started)
            log.warning("WeChat could not take %s for %s: %s", attachment.filename, user, exc)
            return True

    async def _send_template(self, message: OutboundMessage, user: str) -> DeliveryOutcome:
        kind = notification_kind(message)
        template_id = self.template_ids.get(kind) or self.template_ids.get("default")
        if not template_id:
            return Refused(f"outside the 48-hour window and no template for {kind!r} messages")
        body = {"touser": user, "template_id": template_id, "data": template_data(message.text, message.buttons)}
        if message.attachments:
            # Outside the window no file can go: the template opens them through a one-time link.
            url = await self.links.link(message) if self.links is not None else None
            if url is not None:
                body["url"] = url
                body["data"]["remark"] = {"value": f"点击查看{_files_text(message.attachments)}"
                                                   "（链接 24 小时内有效，只能打开一次）。"}
        try:
            answer = await self.api.call("/cgi-bin/message/template/send", json_body=body)
        except WeChatApiError as exc:
            return self._outcome(exc)
        msgid = answer.get("msgid")
        return Delivered(None if msgid is None else str(msgid), numbered=tuple(b.data for b in message.buttons))

    def _outcome(self, exc: WeChatApiError) -> DeliveryOutcome:
        found = api_outcome(exc, self.clock, self.kit.stats)
        if found is not None:
            return found
        if exc.errcode == NOT_SUBSCRIBED:
            return RecipientGone(str(exc))
        if exc.errcode in PERMANENT:
            return Refused(str(exc))
        self.kit.stats["retried"] += 1
        return TemporaryFailure(str(exc))

    async def install_menu(self, menu: dict[str, Any] | None = None) -> None:
        """Install the custom menu (点单 / 我的 / 更多: 帮助, 统计); each click sends its key as text."""
        await self.api.call("/cgi-bin/menu/create", json_body=menu or DEFAULT_MENU)

    async def get_media(self, media_id: str) -> bytes:
        """Download a voice or image a user sent (WeChat keeps it for three days)."""
        return await self.api.download("/cgi-bin/media/get", {"media_id": media_id.removeprefix(f"{PLATFORM}:")})
