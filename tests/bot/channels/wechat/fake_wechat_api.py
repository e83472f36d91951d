"""A fake WeChat: the Official Account and WeCom HTTP APIs the channels use, on a real local server.

The server runs in a thread of its own for the whole session; each test resets its state and
gives it the test's clock.

It enforces what the real platforms enforce, with their error codes, on the test's clock:
- access_token: 7,200 s; an Official Account fetch invalidates the previous token (40001),
  an expired one answers 42001; WeCom returns the same token until it expires (40014 when
  unknown); token fetches and API calls have daily quotas (45009);
- Official Account customer-service messages only to followers (43004), within 48 hours of
  the user's last action (45015), at most 20 per window (45047); template ids must exist (40037);
- WeCom app messages beyond 30 a minute or 1,000 an hour to one member are accepted and
  silently dropped, as WeCom does; app chats need 2–500 members and must exist (86003);
- temporary media (media/upload, multipart field "media"): on the Official Account the types
  image (PNG, JPEG, GIF, up to 10 MB), voice, video and thumb — there is no file type — and
  image, text and news (one article with a url) customer-service messages; on WeCom image (JPG,
  PNG, up to 10 MB) and file (up to 20 MB), more than 5 bytes each, and image and file messages;
  a media_id is good for three days (40007 after, or when unknown).
Mounted at /oa/cgi-bin/… and /wecom/cgi-bin/…, so each channel's API URL is base_url + prefix.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.parser import BytesParser
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN_TTL = timedelta(seconds=7200)
CS_WINDOW = timedelta(hours=48)
CS_PER_WINDOW = 20
MEDIA_TTL = timedelta(days=3)
MB = 2**20
# (media type → (size limit, accepted formats)); None: any format.
OA_MEDIA = {"image": (10 * MB, {"png", "jpeg", "gif"}), "voice": (2 * MB, None), "video": (10 * MB, None),
            "thumb": (64 * 1024, {"jpeg"})}
WECOM_MEDIA = {"image": (10 * MB, {"png", "jpeg"}), "voice": (2 * MB, None), "video": (10 * MB, None),
               "file": (20 * MB, None)}
_media_ids = itertools.count(1)


@dataclass(frozen=True)
class Upload:
    """A temporary media file: its type, name, bytes and when it was uploaded."""

    kind: str
    filename: str
    data: bytes
    at: datetime


def _format(data: bytes) -> str:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return "other"


async def _media_form(request: Request) -> tuple[str, bytes] | None:
    """The "media" part of a multipart upload: (filename, bytes)."""
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        return None
    message = BytesParser().parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + await request.body())
    for part in message.get_payload():
        if part.get_param("name", header="content-disposition") == "media" and part.get_filename():
            return part.get_filename(), part.get_payload(decode=True)
    return None


def _take_upload(store: dict[str, Upload], limits: dict[str, tuple[int, set[str] | None]], kind: str,
                 form: tuple[str, bytes] | None, now: datetime) -> JSONResponse:
    """media/upload as both platforms answer it, with their limits and error codes."""
    if kind not in limits:
        return _err(40004, "invalid media type")
    if form is None:
        return _err(41005, "media data missing")
    filename, data = form
    limit, formats = limits[kind]
    if len(data) <= 5:
        return _err(40006, "invalid file size")
    if formats is not None and _format(data) not in formats:
        return _err(40005, "invalid file type")
    if len(data) > limit:
        return _err(40009 if kind == "image" else 40006, f"invalid {'image' if kind == 'image' else 'file'} size")
    media_id = f"{kind}-{next(_media_ids)}"
    store[media_id] = Upload(kind, filename, data, now)
    return JSONResponse({"errcode": 0, "errmsg": "ok", "type": kind, "media_id": media_id,
                         "created_at": int(now.timestamp())})


def _uploaded(store: dict[str, Upload], media_id: Any, kind: str, now: datetime) -> Upload | None:
    found = store.get(str(media_id))
    return found if found is not None and found.kind == kind and now - found.at < MEDIA_TTL else None


def _err(code: int, msg: str) -> JSONResponse:
    return JSONResponse({"errcode": code, "errmsg": msg})


@dataclass
class TokenBook:
    """Issued tokens; `replaces` says whether a new fetch invalidates the old token (OA) or not (WeCom)."""

    prefix: str
    replaces: bool
    unknown_code: int
    issued: dict[str, datetime] = field(default_factory=dict)
    current: str | None = None
    fetches: int = 0
    daily_fetch_limit: int = 2000

    def fetch(self, now: datetime) -> tuple[str, int] | JSONResponse:
        if self.fetches >= self.daily_fetch_limit:
            return _err(45009, "reach max api daily quota limit")
        if not self.replaces and self.current is not None and now < self.issued[self.current]:
            return self.current, int((self.issued[self.current] - now).total_seconds())
        self.fetches += 1
        token = f"{self.prefix}-token-{self.fetches}"
        self.issued[token] = now + TOKEN_TTL
        self.current = token
        return token, int(TOKEN_TTL.total_seconds())

    def check(self, token: str | None, now: datetime) -> JSONResponse | None:
        if not token:
            return _err(41001, "access_token missing")
        if token not in self.issued or (self.replaces and token != self.current):
            return _err(self.unknown_code, "invalid credential, access_token is invalid or not latest")
        if now >= self.issued[token]:
            return _err(42001, "access_token expired")
        return None

    def expire_all(self, now: datetime) -> None:
        """Make every issued token expire now (as if WeChat's clock ran ahead of ours)."""
        for token in self.issued:
            self.issued[token] = min(self.issued[token], now)


@dataclass
class OfficialAccount:
    """The Official Account side: followers, their 48-hour windows, what was sent."""

    app_id: str
    secret: str
    template_ids: set[str]
    tokens: TokenBook = field(default_factory=lambda: TokenBook("oa", True, 40001))
    followers: set[str] = field(default_factory=set)
    last_action: dict[str, datetime] = field(default_factory=dict)
    cs_count: dict[str, int] = field(default_factory=dict)
    custom: list[tuple[str, str]] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    menus: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    quotas: dict[str, int] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    uploads: dict[str, Upload] = field(default_factory=dict)
    # Customer-service images and link cards: (openid, Upload) and (openid, article).
    images: list[tuple[str, Upload]] = field(default_factory=list)
    news: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def user_acted(self, openid: str, now: datetime) -> None:
        """The user messaged, clicked or followed: their window restarts."""
        self.followers.add(openid)
        self.last_action[openid] = now
        self.cs_count[openid] = 0

    def texts_to(self, openid: str) -> list[str]:
        """Customer-service texts the user received."""
        return [text for who, text in self.custom if who == openid]

    def templates_to(self, openid: str) -> list[dict[str, Any]]:
        """Template messages the user received."""
        return [t for t in self.templates if t["touser"] == openid]


@dataclass
class WeCom:
    """The WeCom side: members, app chats, what was delivered and what was silently dropped."""

    corp_id: str
    secret: str
    agent_id: int
    tokens: TokenBook = field(default_factory=lambda: TokenBook("wecom", False, 40014))
    members: set[str] = field(default_factory=set)
    delivered: list[tuple[str, str, datetime]] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)
    chats: dict[str, dict[str, Any]] = field(default_factory=dict)
    chat_messages: list[tuple[str, str]] = field(default_factory=list)
    media: dict[str, bytes] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)
    # Image and file messages: (userid or chatid, Upload).
    files: list[tuple[str, Upload]] = field(default_factory=list)

    def texts_to(self, userid: str) -> list[str]:
        """App messages the member received."""
        return [text for who, text, _ in self.delivered if who == userid]

    def chat_texts(self, chatid: str) -> list[str]:
        """Messages posted into a group chat."""
        return [text for cid, text in self.chat_messages if cid == chatid]

    def over_limit(self, userid: str, now: datetime) -> bool:
        times = [at for who, _, at in self.delivered if who == userid]
        in_minute = sum(1 for at in times if at > now - timedelta(seconds=60))
        in_hour = sum(1 for at in times if at > now - timedelta(seconds=3600))
        return in_minute >= 30 or in_hour >= 1000


class FakeWeChatApi:
    """Both platforms' APIs on one local HTTP server, reading time from the test's clock."""

    def __init__(self, clock: Any, *, app_id: str, app_secret: str, corp_id: str, corp_secret: str,
                 agent_id: int, template_ids: set[str]) -> None:
        self.reset(clock, app_id=app_id, app_secret=app_secret, corp_id=corp_id, corp_secret=corp_secret,
                   agent_id=agent_id, template_ids=template_ids)
        self.app = Starlette(routes=[
            Route("/oa/cgi-bin/token", self.oa_token),
            Route("/oa/cgi-bin/message/custom/send", self.oa_custom, methods=["POST"]),
            Route("/oa/cgi-bin/message/template/send", self.oa_template, methods=["POST"]),
            Route("/oa/cgi-bin/menu/create", self.oa_menu, methods=["POST"]),
            Route("/oa/cgi-bin/media/get", self.oa_media),
            Route("/oa/cgi-bin/media/upload", self.oa_upload, methods=["POST"]),
            Route("/wecom/cgi-bin/gettoken", self.wecom_token),
            Route("/wecom/cgi-bin/message/send", self.wecom_send, methods=["POST"]),
            Route("/wecom/cgi-bin/appchat/create", self.wecom_chat_create, methods=["POST"]),
            Route("/wecom/cgi-bin/appchat/send", self.wecom_chat_send, methods=["POST"]),
            Route("/wecom/cgi-bin/media/get", self.wecom_media),
            Route("/wecom/cgi-bin/media/upload", self.wecom_upload, methods=["POST"]),
        ])
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def reset(self, clock: Any, *, app_id: str, app_secret: str, corp_id: str, corp_secret: str,
              agent_id: int, template_ids: set[str]) -> None:
        """Forget everything: a new test's accounts on a new clock (the server keeps running)."""
        self.clock = clock
        self.oa = OfficialAccount(app_id, app_secret, set(template_ids))
        self.wecom = WeCom(corp_id, corp_secret, agent_id)

    def start(self) -> str:
        """Serve on a free local port from a thread of its own (started once per session)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit it: without it, a response written in two parts waits for a
        # delayed ACK (40 ms) before its body leaves.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(self.app, lifespan="off", log_level="warning", access_log=False)
        server = self._server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        # The socket already listens: clients queue in its backlog until the server accepts.
        self._thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])),
                                        name="fake-wechat", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Shut the server down."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    # ---- Official Account -------------------------------------------------------------

    async def oa_token(self, request: Request) -> Response:
        q = request.query_params
        if q.get("grant_type") != "client_credential" or q.get("appid") != self.oa.app_id:
            return _err(40013, "invalid appid")
        if q.get("secret") != self.oa.secret:
            return _err(40125, "invalid appsecret")
        got = self.oa.tokens.fetch(self.now)
        if isinstance(got, JSONResponse):
            return got
        return JSONResponse({"access_token": got[0], "expires_in": got[1]})

    async def _oa_guard(self, request: Request, api: str) -> JSONResponse | None:
        refused = self.oa.tokens.check(request.query_params.get("access_token"), self.now)
        if refused is not None:
            return refused
        self.oa.calls.append(api)
        if api in self.oa.quotas:
            if self.oa.quotas[api] <= 0:
                return _err(45009, "reach max api daily quota limit")
            self.oa.quotas[api] -= 1
        return None

    async def oa_custom(self, request: Request) -> Response:
        if (refused := await self._oa_guard(request, "message/custom/send")) is not None:
            return refused
        body = json.loads(await request.body())
        user = body.get("touser", "")
        if user not in self.oa.followers:
            return _err(43004, "require subscribe")
        last = self.oa.last_action.get(user)
        if last is None or self.now - last > CS_WINDOW:
            return _err(45015, "response out of time limit or subscription is canceled")
        if self.oa.cs_count.get(user, 0) >= CS_PER_WINDOW:
            return _err(45047, "out of response count limit")
        kind = body.get("msgtype")
        if kind == "image":
            upload = _uploaded(self.oa.uploads, body.get("image", {}).get("media_id"), "image", self.now)
            if upload is None:
                return _err(40007, "invalid media_id")
        elif kind == "news":
            articles = body.get("news", {}).get("articles", [])
            if len(articles) != 1 or not str(articles[0].get("url", "")).startswith("http"):
                return _err(45008, "article size out of limit")  # one article, with a link
        elif kind != "text":
            return _err(40008, "invalid message type")
        self.oa.cs_count[user] = self.oa.cs_count.get(user, 0) + 1
        if kind == "image":
            self.oa.images.append((user, upload))
        elif kind == "news":
            self.oa.news.append((user, articles[0]))
        else:
            self.oa.custom.append((user, body["text"]["content"]))
        return _err(0, "ok")

    async def oa_upload(self, request: Request) -> Response:
        if (refused := await self._oa_guard(request, "media/upload")) is not None:
            return refused
        return _take_upload(self.oa.uploads, OA_MEDIA, request.query_params.get("type", ""),
                            await _media_form(request), self.now)

    async def oa_template(self, request: Request) -> Response:
        if (refused := await self._oa_guard(request, "message/template/send")) is not None:
            return refused
        body = json.loads(await request.body())
        if body.get("template_id") not in self.oa.template_ids:
            return _err(40037, "invalid template_id")
        if body.get("touser") not in self.oa.followers:
            return _err(43004, "require subscribe")
        self.oa.templates.append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": 1000 + len(self.oa.templates)})

    async def oa_menu(self, request: Request) -> Response:
        if (refused := await self._oa_guard(request, "menu/create")) is not None:
            return refused
        body = json.loads(await request.body())
        buttons = body.get("button", [])
        if not 1 <= len(buttons) <= 3 or any(len(b.get("sub_button", [])) > 5 for b in buttons):
            return _err(40016, "invalid button size")
        for b in buttons:
            for item in [b, *b.get("sub_button", [])]:
                if item.get("type") == "click" and not 0 < len(item.get("key", "").encode()) <= 128:
                    return _err(40019, "invalid button key size")
        self.oa.menus.append(body)
        return _err(0, "ok")

    async def oa_media(self, request: Request) -> Response:
        if (refused := await self._oa_guard(request, "media/get")) is not None:
            return refused
        data = self.oa.media.get(request.query_params.get("media_id", ""))
        if data is None:
            return _err(40007, "invalid media_id")
        return Response(data, media_type="image/jpeg")

    # ---- WeCom --------------------------------------------------------------------------

    async def wecom_token(self, request: Request) -> Response:
        q = request.query_params
        if q.get("corpid") != self.wecom.corp_id:
            return _err(40013, "invalid corpid")
        if q.get("corpsecret") != self.wecom.secret:
            return _err(40001, "invalid secret")
        got = self.wecom.tokens.fetch(self.now)
        if isinstance(got, JSONResponse):
            return got
        return JSONResponse({"errcode": 0, "errmsg": "ok", "access_token": got[0], "expires_in": got[1]})

    async def wecom_send(self, request: Request) -> Response:
        if (refused := self.wecom.tokens.check(request.query_params.get("access_token"), self.now)) is not None:
            return refused
        body = json.loads(await request.body())
        if body.get("agentid") != self.wecom.agent_id:
            return _err(40056, "invalid agentid")
        users = [u for u in str(body.get("touser", "")).split("|") if u]
        valid = [u for u in users if u in self.wecom.members]
        if not valid:
            return _err(81013, "user & party & tag all invalid")
        content = self._wecom_content(body)
        if isinstance(content, JSONResponse):
            return content
        for user in valid:
            if self.wecom.over_limit(user, self.now):
                self.wecom.dropped.append((user, content))  # WeCom says ok, delivers nothing
            else:
                self.wecom.delivered.append((user, content, self.now))
                if body.get("msgtype") in ("image", "file"):
                    self.wecom.files.append((user, self.wecom.uploads[body[body["msgtype"]]["media_id"]]))
        invalid = "|".join(u for u in users if u not in self.wecom.members)
        return JSONResponse({"errcode": 0, "errmsg": "ok", "invaliduser": invalid, "msgid": f"m{len(self.wecom.delivered)}"})

    async def wecom_chat_create(self, request: Request) -> Response:
        if (refused := self.wecom.tokens.check(request.query_params.get("access_token"), self.now)) is not None:
            return refused
        body = json.loads(await request.body())
        users = body.get("userlist", [])
        if not 2 <= len(users) <= 500:
            return _err(86006, "invalid chat member count")
        if any(u not in self.wecom.members for u in users):
            return _err(86007, "invalid chat member")
        chatid = body.get("chatid") or f"chat{len(self.wecom.chats) + 1}"
        if chatid in self.wecom.chats:
            return _err(86215, "chatid already exists (the fake's code)")
        self.wecom.chats[chatid] = {"name": body.get("name"), "owner": body.get("owner"), "userlist": users}
        return JSONResponse({"errcode": 0, "errmsg": "ok", "chatid": chatid})

    async def wecom_chat_send(self, request: Request) -> Response:
        if (refused := self.wecom.tokens.check(request.query_params.get("access_token"), self.now)) is not None:
            return refused
        body = json.loads(await request.body())
        if body.get("chatid") not in self.wecom.chats:
            return _err(86003, "chatid not found")
        content = self._wecom_content(body)
        if isinstance(content, JSONResponse):
            return content
        self.wecom.chat_messages.append((body["chatid"], content))
        if body.get("msgtype") in ("image", "file"):
            self.wecom.files.append((body["chatid"], self.wecom.uploads[body[body["msgtype"]]["media_id"]]))
        return _err(0, "ok")

    def _wecom_content(self, body: dict[str, Any]) -> str | JSONResponse:
        """A message's text, or "[image] chart.png" for a file message whose media_id is good."""
        kind = body.get("msgtype")
        if kind == "text":
            return str(body["text"]["content"])
        if kind in ("image", "file"):
            upload = _uploaded(self.wecom.uploads, body.get(kind, {}).get("media_id"), kind, self.now)
            if upload is None:
                return _err(40007, "invalid media_id")
            return f"[{kind}] {upload.filename}"
        return _err(40008, "invalid message type")

    async def wecom_upload(self, request: Request) -> Response:
        if (refused := self.wecom.tokens.check(request.query_params.get("access_token"), self.now)) is not None:
            return refused
        return _take_upload(self.wecom.uploads, WECOM_MEDIA, request.query_params.get("type", ""),
                            await _media_form(request), self.now)

    async def wecom_media(self, request: Request) -> Response:
        if (refused := self.wecom.tokens.check(request.query_params.get("access_token"), self.now)) is not None:
            return refused
        data = self.wecom.media.get(request.query_params.get("media_id", ""))
        if data is None:
            return _err(40007, "invalid media_id")
        return Response(data, media_type="image/jpeg")
