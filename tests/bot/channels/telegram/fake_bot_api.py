"""A fake Telegram Bot API server: real HTTP on 127.0.0.1, the real wire format, the real limits.

python-telegram-bot talks to it through `base_url`, exactly as it talks to api.telegram.org:
form-encoded or multipart requests to `/bot<token>/<method>`, `{"ok": …}` answers. It keeps
what the bot sent per chat (and each edit), plays users (messages, button presses, shared
contacts), serves `getUpdates` long polling or pushes updates to a webhook (with the secret
header, redelivering until it gets a 2xx), and enforces Telegram's limits exactly: a send
that would exceed 30/s for the bot, 1/s in a chat or 20/min in a group gets 429 with
`parameters.retry_after`. Tests can make the next calls fail or drop the connection.
Uploads are held to the Bot API's limits: a photo up to 10 MB (and 10,000 pixels of width plus
height), any other file up to 50 MB; beyond them the answer is 413, as Telegram's.
Command menus are kept per scope (setMyCommands, deleteMyCommands; `menu_shown` resolves what a
chat sees) within Telegram's limits: at most 100 commands of 1-32 lowercase letters, digits or
underscores, each described in 1-256 characters, for a scope whose chat exists.

Not a test module (no `test_` prefix): the conftest and the benchmark load it by path.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from math import ceil
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

SEND_METHODS = {"sendMessage", "sendPhoto", "sendDocument"}
PHOTO_LIMIT = 10 * 2**20
DOCUMENT_LIMIT = 50 * 2**20
EDIT_METHODS = {"editMessageText", "editMessageReplyMarkup"}
# Parameters whose value is a plain string on the wire, never JSON.
RAW_STRINGS = {"text", "caption", "parse_mode", "url", "secret_token", "callback_query_id", "photo",
               "document", "callback_data", "inline_message_id", "business_connection_id"}
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                "span", "tg-spoiler", "blockquote", "tg-emoji"}
_HTML_TOKEN = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z-]*)((?:\s+[a-z-]+=\"[^\"<>]*\")*)\s*>|&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);|([<>&])"
)


class ApiError(Exception):
    """An error answer: HTTP status, description and optional `parameters`."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def parse_html(text: str) -> str:
    """The plain text Telegram would show for parse_mode=HTML; ApiError if it cannot parse it."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for m in _HTML_TOKEN.finditer(text):
        out.append(text[pos:m.start()])
        pos = m.end()
        closing, tag, _attrs, entity, bare = m.groups()
        if bare:
            raise ApiError(400, f"Bad Request: can't parse entities: unexpected {bare!r} at byte offset {m.start()}")
        if entity:
            out.append(html.unescape(f"&{entity};"))
            continue
        tag = tag.lower()
        if tag not in ALLOWED_TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: unsupported start tag \"{tag}\"")
        if closing:
            if not stack or stack.pop() != tag:
                raise ApiError(400, f"Bad Request: can't parse entities: unmatched end tag \"{tag}\"")
        else:
            stack.append(tag)
    out.append(text[pos:])
    if stack:
        raise ApiError(400, f"Bad Request: can't parse entities: unclosed start tag \"{stack[-1]}\"")
    return "".join(out)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class FakeLimits:
    """Telegram's limits; tests shrink the periods. `enabled=False` measures raw throughput."""

    global_count: int = 30
    global_period: float = 1.0
    chat_period: float = 1.0
    group_count: int = 20
    group_period: float = 60.0
    enabled: bool = True


@dataclass
class FakeUser:
    """A Telegram user the tests play."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class SentMessage:
    """A message in a chat as the fake shows it now (after edits)."""

    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None
    from_bot: bool = True
    kind: str = "text"
    edits: list[str] = field(default_factory=list)
    received_at: float = 0.0

    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of the inline keyboard, row by row."""
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [(b["text"], b.get("callback_data", "")) for row in self.reply_markup["inline_keyboard"] for b in row]


@dataclass
class _Failure:
    method: str
    chat_id: int | None
    code: int
    description: str
    retry_after: int | None
    drop: bool
    migrate_to_chat_id: int | None = None


class _Window:
    """Exact sliding-window counting of what the server accepted."""

    def __init__(self) -> None:
        self.times: deque[float] = deque()

    def wait(self, now: float, limit: int, period: float) -> float:
        while self.times and self.times[0] <= now - period:
            self.times.popleft()
        if len(self.times) < limit:
            return 0.0
        return self.times[len(self.times) - limit] + period - now


class FakeBotAPI:
    """The fake server. `await start()`, point PTB's base_url at `base_url`, `await stop()`."""

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        limits: FakeLimits = FakeLimits(),
        username: str = "xinfeng_test_bot",
        latency: float = 0.0,
        webhook_retry_delay: float = 0.01,
        webhook_max_connections: int = 40,
    ) -> None:
        self.token = token
        self.limits = limits
        self.bot_user = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": "新风志愿服务",
                         "username": username, "can_join_groups": True, "can_read_all_group_messages": True,
                         "supports_inline_queries": False}
        self.latency = latency
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_max_connections = webhook_max_connections
        self.base_url = ""
        self.users: dict[int, FakeUser] = {}
        self.groups: dict[int, str] = {}
        self.started: set[int] = set()  # users who have written to the bot (it may then write to them)
        self.blocked: set[int] = set()
        self.messages: dict[int, dict[int, SentMessage]] = {}  # chat → message_id → message
        self.callback_answers: dict[str, dict[str, Any]] = {}
        # What was uploaded, per chat: (method, filename, bytes).
        self.files: dict[int, list[tuple[str, str, bytes]]] = {}
        self.commands: list[dict[str, Any]] = []  # the default scope's menu
        # Every menu set, by scope: ("default", lang), ("all_private_chats", lang), ("chat", chat_id, lang) …
        self.menus: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.webhook_responses: list[int] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.stats: Counter[str] = Counter()
        self.updates: list[dict[str, Any]] = []  # not yet confirmed (polling) or delivered (webhook)
        self._update_ids = itertools.count(1000)
        self.last_returned_id = 0
        self.history: dict[int, dict[str, Any]] = {}
        self.sent_count = 0  # messages the bot has sent (cheap to poll)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._new_update = asyncio.Event()
        # Set and replaced on every change (an update queued or confirmed, a call answered):
        # what `until` waits on instead of polling.
        self._changed = asyncio.Event()
        self._failures: list[_Failure] = []
        self._windows: dict[str, _Window] = {}
        self._server: asyncio.AbstractServer | None = None
        self._pusher: asyncio.Task[None] | None = None
        # Webhook POSTs on their way, per update id (a redelivered update may be on its way twice).
        self._in_flight: Counter[int] = Counter()
        self._connections: set[asyncio.StreamWriter] = set()

    # ------------------------------------------------------------------ waiting for the bot

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def until(self, predicate: Any, timeout: float = 15.0) -> None:
        """Wait until `predicate()` holds, re-checking on every change; AssertionError after `timeout`."""

        async def wait() -> None:
            while not predicate():
                await self._changed.wait()

        try:
            await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"the fake Bot API never got there (stats {dict(self.stats)})") from None

    # ------------------------------------------------------------------ server

    async def start(self) -> str:
        """Listen on an ephemeral port of 127.0.0.1; returns the base URL for PTB."""
        self._server = await asyncio.start_server(self._serve_connection, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        return self.base_url

    async def stop(self) -> None:
        """Stop listening, pushing and serving."""
        if self._pusher is not None:
            self._pusher.cancel()
            await asyncio.gather(self._pusher, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            for writer in list(self._connections):
                writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                method, target, headers, body = request
                try:
                    status, payload, drop = await self._dispatch(method, target, headers, body)
                finally:
                    self._notify()
                if drop:
                    self.stats["dropped"] += 1
                    writer.transport.abort()  # the client sees a broken connection, no answer
                    return
                data = json.dumps(payload, ensure_ascii=False).encode()
                writer.write(
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                    "Connection: keep-alive\r\n\r\n".encode() + data
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return  # the client went away, or the server is stopping
        finally:
            self._connections.discard(writer)
            writer.close()

    async def _dispatch(self, verb: str, target: str, headers: dict[str, str],
                        body: bytes) -> tuple[int, dict[str, Any], bool]:
        path = urlsplit(target).path
        m = re.fullmatch(r"/bot([^/]+)/(\w+)", path)
        if m is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, False
        token, api_method = m.groups()
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, False
        try:
            params = _params(urlsplit(target).query, headers, body)
        except Exception as exc:  # noqa: BLE001
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}, False
        self.calls.append((api_method, params))
        self.stats[api_method] += 1
        if self.latency:
            await asyncio.sleep(self.latency)  # a slow network, simulated
        failure = self._take_failure(api_method, params)
        if failure is not None:
            self.stats["injected"] += 1
            if failure.drop:
                return 0, {}, True
            return failure.code, _error(failure.code, failure.description, failure.retry_after,
                                        failure.migrate_to_chat_id), False
        handler = getattr(self, f"_api_{api_method}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}, False
        try:
            self._enforce_limits(api_method, params)
            result = await handler(params) if asyncio.iscoroutinefunction(handler) else handler(params)
        except ApiError as exc:
            if exc.code == 429:
                self.stats["429"] += 1
            payload = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.parameters:
                payload["parameters"] = exc.parameters
            return exc.code, payload, False
        return 200, {"ok": True, "result": result}, False

    # ------------------------------------------------------------------ failures and limits

    def fail_next(self, method: str, *, code: int = 500, description: str = "Internal Server Error",
                  retry_after: int | None = None, times: int = 1, chat_id: int | None = None,
                  migrate_to_chat_id: int | None = None) -> None:
        """Answer the next `times` calls of `method` (to `chat_id`, if given) with an error."""
        for _ in range(times):
            self._failures.append(_Failure(method, chat_id, code, description, retry_after, False,
                                           migrate_to_chat_id))

    def drop_next(self, method: str, *, times: int = 1, chat_id: int | None = None) -> None:
        """Close the connection on the next `times` calls of `method`, without answering."""
        for _ in range(times):
            self._failures.append(_Failure(method, chat_id, 0, "", None, True))

    def _take_failure(self, method: str, params: dict[str, Any]) -> _Failure | None:
        for i, f in enumerate(self._failures):
            if f.method == method and (f.chat_id is None or f.chat_id == params.get("chat_id")):
                return self._failures.pop(i)
        return None

    def _enforce_limits(self, method: str, params: dict[str, Any]) -> None:
        if not self.limits.enabled or (method not in SEND_METHODS and method not in EDIT_METHODS):
            return
        lim, now = self.limits, time.monotonic()
        chat = params.get("chat_id")
        checks = [("global", lim.global_count, lim.global_period)]
        if method in SEND_METHODS:
            checks.append((f"chat:{chat}", 1, lim.chat_period))
            if isinstance(chat, int) and chat < 0:
                checks.append((f"group:{chat}", lim.group_count, lim.group_period))
        waits = {key: self._windows.setdefault(key, _Window()).wait(now, n, period) for key, n, period in checks}
        wait = max(waits.values())
        if wait > 0:
            self.stats["429:" + max(waits, key=lambda k: waits[k]).split(":")[0]] += 1
            retry = max(1, ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        for key, _, _ in checks:
            self._windows[key].times.append(now)

    # ------------------------------------------------------------------ chats and users

    def add_user(self, user_id: int, first_name: str, last_name: str | None = None,
                 username: str | None = None) -> FakeUser:
        """A Telegram account the tests can act as."""
        user = FakeUser(user_id, first_name, last_name, username)
        self.users[user_id] = user
        return user

    def add_group(self, chat_id: int, title: str) -> int:
        """A group chat (negative id) the bot has been added to."""
        self.groups[chat_id] = title
        return chat_id

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id < 0:
            if chat_id not in self.groups:
                raise ApiError(400, "Bad Request: chat not found")
            return {"id": chat_id, "type": "supergroup", "title": self.groups[chat_id]}
        user = self.users.get(chat_id)
        if user is None:
            raise ApiError(400, "Bad Request: chat not found")
        return {"id": chat_id, "type": "private", "first_name": user.first_name}

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _message_dict(self, msg: SentMessage, sender: dict[str, Any] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"message_id": msg.message_id, "date": int(time.time()),
                                "chat": self._chat(msg.chat_id), "from": sender or self.bot_user}
        if msg.kind == "photo":
            data["photo"] = [{"file_id": msg.text or "photo", "file_unique_id": "u1", "width": 90, "height": 90}]
        else:
            data["text"] = msg.text
        if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
            data["reply_markup"] = msg.reply_markup
        return data

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        """What the bot has sent to a chat, oldest first (as it looks now)."""
        return [m for m in self.messages.get(chat_id, {}).values() if m.from_bot]

    def all_sent(self) -> list[SentMessage]:
        """Every message the bot has sent, in order of arrival."""
        return sorted((m for chat in self.messages.values() for m in chat.values() if m.from_bot),
                      key=lambda m: m.received_at)

    # ------------------------------------------------------------------ users acting

    def _push_update(self, body: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.history[update_id] = {"update_id": update_id, **body}
        self.updates.append(self.history[update_id])
        self._new_update.set()
        self._notify()
        return update_id

    def redeliver(self, update_id: int) -> None:
        """Send an update again, as Telegram does when it is unsure the bot got it."""
        self.updates.append(self.history[update_id])
        self._new_update.set()
        self._notify()

    def user_says(self, user_id: int, text: str, *, chat_id: int | None = None) -> int:
        """A user writes in a private chat (default) or a group; returns the update id."""
        chat = chat_id if chat_id is not None else user_id
        if chat > 0:
            self.started.add(user_id)
        msg = SentMessage(chat, self._next_message_id(chat), text, None, from_bot=False)
        self.messages.setdefault(chat, {})[msg.message_id] = msg
        data = self._message_dict(msg, self.users[user_id].to_dict())
        if text.startswith("/"):
            data["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self._push_update({"message": data})

    def user_shares_contact(self, user_id: int, phone: str, *, own: bool = True,
                            contact_user_id: int | None = None) -> int:
        """A user shares a contact card: their own (the request button), or forwards someone else's."""
        self.started.add(user_id)
        msg = SentMessage(user_id, self._next_message_id(user_id), "", None, from_bot=False)
        data = self._message_dict(msg, self.users[user_id].to_dict())
        data.pop("text", None)
        data["contact"] = {"phone_number": phone, "first_name": self.users[user_id].first_name if own else "某人"}
        owner = user_id if own else contact_user_id
        if owner is not None:
            data["contact"]["user_id"] = owner
        return self._push_update({"message": data})

    def press(self, user_id: int, message: SentMessage, label: str) -> int:
        """A user presses the button labelled `label` on a message the bot sent."""
        current = self.messages[message.chat_id][message.message_id]
        data = dict(current.buttons()).get(label)
        if data is None:
            raise AssertionError(f"no button {label!r} on message {current.message_id}: {current.buttons()}")
        query = {"id": uuid.uuid4().hex[:16], "from": self.users[user_id].to_dict(),
                 "message": self._message_dict(current), "chat_instance": f"ci{message.chat_id}", "data": data}
        return self._push_update({"callback_query": query})

    def raw_update(self, body: dict[str, Any]) -> int:
        """Queue any update body (edited messages, joins …)."""
        return self._push_update(body)

    def migrate_group(self, old_chat_id: int, new_chat_id: int) -> int:
        """A group becomes a supergroup: Telegram posts a service message with the new id."""
        self.groups[new_chat_id] = self.groups[old_chat_id]
        msg = SentMessage(old_chat_id, self._next_message_id(old_chat_id), "", None, from_bot=False)
        data = self._message_dict(msg, next(iter(self.users.values())).to_dict())
        data.pop("text", None)
        data["migrate_to_chat_id"] = new_chat_id
        return self._push_update({"message": data})

    # ------------------------------------------------------------------ Bot API methods

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user

    def _menu_scope(self, params: dict[str, Any]) -> tuple[Any, ...]:
        """The scope a menu call names (default when none), with its language; ApiError as Telegram answers."""
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict):
            raise ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
        kind = scope.get("type")
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            key: tuple[Any, ...] = (kind,)
        elif kind in ("chat", "chat_administrators", "chat_member"):
            chat = scope.get("chat_id")
            if not isinstance(chat, int):
                raise ApiError(400, "Bad Request: chat not found")
            self._chat(chat)
            key = (kind, chat)
            if kind == "chat_member":
                if scope.get("user_id") not in self.users:
                    raise ApiError(400, "Bad Request: user not found")
                key += (scope["user_id"],)
        else:
            raise ApiError(400, "Bad Request: wrong BotCommandScope type specified")
        return (*key, params.get("language_code") or "")

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for c in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", c.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(c.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._menu_scope(params)
        if commands:
            self.menus[key] = commands
        else:  # an empty list deletes the scope's menu
            self.menus.pop(key, None)
        if key == ("default", ""):
            self.commands = commands
        return True

    def _api_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        key = self._menu_scope(params)
        self.menus.pop(key, None)
        if key == ("default", ""):
            self.commands = []
        return True

    def menu_shown(self, chat_id: int, language_code: str = "") -> list[str]:
        """The commands a chat's menu shows: its own, else its chat type's, else the default (each: language first)."""
        everyone = ("all_group_chats",) if chat_id < 0 else ("all_private_chats",)
        for scope in (("chat", chat_id), everyone, ("default",)):
            for language in dict.fromkeys((language_code, "")):
                menu = self.menus.get((*scope, language))
                if menu:
                    return [c["command"] for c in menu]
        return []

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url", "")
        if not url:
            self.webhook = None
            return True
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = {"url": url, "secret_token": secret, "allowed_updates": params.get("allowed_updates")}
        if params.get("drop_pending_updates"):
            self.updates.clear()
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.create_task(self._push_webhooks())
        return True

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self.updates.clear()
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self.updates)}

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:
            # Calling with an offset confirms every update before it: they are gone for good.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if not self.updates and timeout > 0:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        allowed = params.get("allowed_updates")
        batch = [u for u in self.updates[:limit] if not allowed or any(k in u for k in allowed)]
        self.stats["updates_returned"] += len(batch)
        if batch:
            self.last_returned_id = max(self.last_returned_id, batch[-1]["update_id"])
        return batch

    def _check_recipient(self, chat_id: Any) -> int:
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        self._chat(chat_id)
        if chat_id > 0:
            if chat_id in self.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if chat_id not in self.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat_id

    def _text(self, params: dict[str, Any], key: str = "text") -> str:
        raw = params.get(key)
        if not isinstance(raw, str):
            raise ApiError(400, "Bad Request: message text is empty")
        text = parse_html(raw) if str(params.get("parse_mode", "")).upper() == "HTML" else raw
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return text

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _store_sent(self, chat_id: int, text: str, markup: dict[str, Any] | None, kind: str = "text") -> SentMessage:
        msg = SentMessage(chat_id, self._next_message_id(chat_id), text, markup, kind=kind,
                          received_at=time.monotonic())
        self.sent_count += 1
        self.messages.setdefault(chat_id, {})[msg.message_id] = msg
        return msg

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._check_recipient(params.get("chat_id"))
        msg = self._store_sent(chat_id, self._text(params), self._markup(params))
        return self._message_dict(msg)

    def _upload(self, params: dict[str, Any], field: str, limit: int) -> dict[str, Any]:
        chat_id = self._check_recipient(params.get("chat_id"))
        upload = params.get(field)
        if upload is None:
            raise ApiError(400, f"Bad Request: there is no {field} in the request")
        if isinstance(upload, bytes) and len(upload) > limit:
            raise ApiError(413, "Request Entity Too Large")
        if field == "photo" and isinstance(upload, bytes):
            _check_photo(upload)
        caption = params.get("caption")
        if caption is not None and utf16_len(parse_html(caption) if params.get("parse_mode") else caption) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        name = params.get("__filenames", {}).get(field, "")
        ref = upload if isinstance(upload, str) else f"uploaded-{len(upload)}-bytes"
        msg = self._store_sent(chat_id, ref, self._markup(params), kind=field)
        if isinstance(upload, bytes):
            self.files.setdefault(chat_id, []).append((field, name, upload))
            self.stats[f"{field}_bytes"] += len(upload)
        return self._message_dict(msg)

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._upload(params, "photo", PHOTO_LIMIT)

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._upload(params, "document", DOCUMENT_LIMIT)

    def _edited(self, params: dict[str, Any]) -> SentMessage:
        chat_id = params.get("chat_id")
        message_id = params.get("message_id")
        msg = self.messages.get(chat_id, {}).get(message_id) if isinstance(chat_id, int) else None
        if msg is None or not msg.from_bot:
            raise ApiError(400, "Bad Request: message to edit not found")
        return msg

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._edited(params)
        text, markup = self._text(params), self._markup(params)
        if text == msg.text and markup == msg.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                "reply markup are exactly the same as a current content and reply markup")
        msg.edits.append(msg.text)
        msg.text, msg.reply_markup = text, markup  # no reply_markup: the keyboard goes away
        return self._message_dict(msg)

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._edited(params)
        markup = self._markup(params)
        if markup == msg.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        msg.reply_markup = markup
        return self._message_dict(msg)

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id = params.get("callback_query_id")
        if not query_id:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if query_id in self.callback_answers:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        text = params.get("text") or ""
        if len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = {"text": text, "show_alert": bool(params.get("show_alert"))}
        return True

    # ------------------------------------------------------------------ webhook delivery

    async def _push_webhooks(self) -> None:
        """Deliver pending updates to the webhook, in parallel, until each gets a 2xx."""
        async with httpx.AsyncClient(timeout=10.0) as client:
            gate = asyncio.Semaphore(self.webhook_max_connections)
            running: set[asyncio.Task[None]] = set()
            while self.webhook is not None:
                waiting = [u for u in self.updates if u["update_id"] not in self._in_flight]
                if not waiting:
                    self._new_update.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._new_update.wait(), 0.05)
                    continue
                for update in waiting:
                    self._in_flight[update["update_id"]] += 1
                    task = asyncio.create_task(self._push_one(client, gate, update))
                    running.add(task)
                    task.add_done_callback(running.discard)
                await asyncio.sleep(0)
            for task in running:
                task.cancel()

    async def _push_one(self, client: httpx.AsyncClient, gate: asyncio.Semaphore, update: dict[str, Any]) -> None:
        hook = self.webhook
        if hook is None:
            self._landed(update["update_id"])
            return
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
        try:
            async with gate:
                response = await client.post(hook["url"], content=json.dumps(update, ensure_ascii=False),
                                             headers=headers)
            self.webhook_responses.append(response.status_code)
            ok = 200 <= response.status_code < 300
        except httpx.HTTPError:
            self.webhook_responses.append(0)
            ok = False
        if ok:
            self.updates = [u for u in self.updates if u["update_id"] != update["update_id"]]
            self.stats["webhook_delivered"] += 1
        else:
            self.stats["webhook_redelivery"] += 1
            await asyncio.sleep(self.webhook_retry_delay)  # Telegram retries a failed webhook later
        self._landed(update["update_id"])
        self._new_update.set()
        self._notify()

    def _landed(self, update_id: int) -> None:
        self._in_flight[update_id] -= 1
        if self._in_flight[update_id] <= 0:
            del self._in_flight[update_id]

    @property
    def busy(self) -> bool:
        """Whether an update is still unconfirmed (polling) or on its way to the webhook."""
        return bool(self.updates or self._in_flight)

    def pending_updates(self) -> int:
        """Updates not yet confirmed by getUpdates or acknowledged by the webhook."""
        return len(self.updates)


def _check_photo(data: bytes) -> None:
    """Telegram's photo rules for a PNG: width and height add up to at most 10,000 pixels, ratio at most 20."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        if width + height > 10_000 or max(width, height) > 20 * max(1, min(width, height)):
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")


def _error(code: int, description: str, retry_after: int | None,
           migrate_to_chat_id: int | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        payload["parameters"] = {"retry_after": retry_after}
    if migrate_to_chat_id is not None:
        payload["parameters"] = {"migrate_to_chat_id": migrate_to_chat_id}
    return payload


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes] | None:
    try:
        line = await reader.readline()
    except (ConnectionError, ValueError):
        return None
    if not line:
        return None
    verb, target, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readline()).strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return verb, target, headers, body


def _params(query: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    raw: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query).items()}
    ctype = headers.get("content-type", "")
    if ctype.startswith("application/json") and body:
        raw.update(json.loads(body))
        return raw
    if ctype.startswith("application/x-www-form-urlencoded"):
        raw.update({k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()})
    elif ctype.startswith("multipart/form-data"):
        message = BytesParser().parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + body)
        for part in message.get_payload():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            raw[name] = payload if part.get_filename() else payload.decode("utf-8")
            if part.get_filename():
                raw.setdefault("__filenames", {})[name] = part.get_filename()
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and key not in RAW_STRINGS:
            try:
                value = json.loads(value)
            except ValueError:
                pass
        params[key] = value
    return params
