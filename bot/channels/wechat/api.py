"""The WeChat/WeCom access_token, owned by one refresher, and the async API client that uses it.

An Official Account's access_token lasts 7,200 s, fetches are limited per day, and a new
fetch invalidates the old token — so workers must not each fetch their own. One refresher
owns it: cached with its expiry, in Redis under a lock when Redis is configured (every
worker shares one token), in process otherwise. A call answered "invalid/expired token"
(40001, 40014, 42001) asks for ONE coordinated refresh: whoever holds the lock fetches,
everyone else picks up the new token. Quota errors (45009 daily API limit) back the API
off and are reported in the log.

wechatpy's HTTP client is synchronous; calls here go through httpx's async client instead,
so the event loop is never blocked (wechatpy is used for crypto only).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from storage.clock import Clock

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

INVALID_TOKEN = frozenset({40001, 40014, 42001})
QUOTA_EXHAUSTED = 45009
# The per-user customer-service count of a 48-hour window: the channel falls back to templates.
USER_QUOTA_EXHAUSTED = 45047


class WeChatApiError(Exception):
    """WeChat answered with a non-zero errcode, or could not be reached (errcode -1)."""

    def __init__(self, api: str, errcode: int, errmsg: str) -> None:
        super().__init__(f"{api}: {errcode} {errmsg}")
        self.api = api
        self.errcode = errcode
        self.errmsg = errmsg


class QuotaExceeded(WeChatApiError):
    """The API's daily quota is used up (45009); calls are held back until `until`."""

    def __init__(self, api: str, errcode: int, errmsg: str, until: datetime) -> None:
        super().__init__(api, errcode, errmsg)
        self.until = until


@dataclass(frozen=True)
class CachedToken:
    """A token and the instant it stops working."""

    value: str
    expires_at: datetime

    def usable(self, now: datetime, margin: timedelta) -> bool:
        """Whether it will still work for a while."""
        return now + margin < self.expires_at

    def dumps(self) -> str:
        """JSON for Redis."""
        return json.dumps({"value": self.value, "expires_at": self.expires_at.isoformat()})

    @classmethod
    def loads(cls, raw: bytes | str | None) -> CachedToken | None:
        """From Redis JSON (None when absent or unreadable)."""
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return cls(str(data["value"]), datetime.fromisoformat(data["expires_at"]))
        except (ValueError, KeyError, TypeError):
            return None


TokenFetcher = Callable[[], Awaitable[tuple[str, int]]]


class AccessTokenRefresher:
    """Owns one account's access_token; shared through Redis when a client is given.

    `fetch` returns `(token, expires_in)` from the platform. `fetches` counts this
    instance's fetches (for tests and the benchmark).
    """

    def __init__(
        self,
        name: str,
        fetch: TokenFetcher,
        clock: Clock,
        *,
        redis: Redis | None = None,
        prefix: str = "xinfeng:wechat:",
        margin: timedelta = timedelta(minutes=5),
        lock_timeout: float = 15.0,
    ) -> None:
        self.name = name
        self._fetch = fetch
        self._clock = clock
        self._redis = redis
        self._key = f"{prefix}token:{name}"
        self._lock_key = f"{prefix}token-lock:{name}"
        self._margin = margin
        self._lock_timeout = lock_timeout
        self._local: CachedToken | None = None
        self._mutex = asyncio.Lock()
        self.fetches = 0

    async def token(self) -> str:
        """A token that is valid now, fetching one only when nobody has a usable one."""
        now = self._clock.now()
        if self._local is not None and self._local.usable(now, self._margin):
            return self._local.value
        return await self._refresh(stale=None)

    async def refresh_after_invalid(self, bad: str) -> str:
        """WeChat refused `bad`: return a newer token, fetching only if nobody already has."""
        return await self._refresh(stale=bad)

    async def _refresh(self, stale: str | None) -> str:
        async with self._mutex:  # one refresh per process at a time
            found = await self._shared()
            if self._good(found, stale):
                assert found is not None
                self._local = found
                return found.value
            if self._redis is None:
                return await self._fetch_and_store()
            # blocking_timeout > lock timeout: a crashed holder's lock expires before we give up.
            lock = self._redis.lock(self._lock_key, timeout=self._lock_timeout,
                                    blocking_timeout=self._lock_timeout * 2, sleep=0.01)
            async with lock:
                found = await self._shared()
                if self._good(found, stale):
                    assert found is not None
                    self._local = found
                    return found.value
                return await self._fetch_and_store()

    def _good(self, found: CachedToken | None, stale: str | None) -> bool:
        return found is not None and found.value != stale and found.usable(self._clock.now(), self._margin)

    async def _shared(self) -> CachedToken | None:
        if self._redis is None:
            return self._local
        return CachedToken.loads(await self._redis.get(self._key))

    async def _fetch_and_store(self) -> str:
        value, expires_in = await self._fetch()
        self.fetches += 1
        cached = CachedToken(value, self._clock.now() + timedelta(seconds=expires_in))
        self._local = cached
        if self._redis is not None:
            await self._redis.set(self._key, cached.dumps(), ex=max(1, int(expires_in)))
        return value


class WeChatApiClient:
    """Calls one account's HTTP API asynchronously, with its shared token and quota back-off."""

    def __init__(
        self,
        base_url: str,
        http: httpx.AsyncClient,
        clock: Clock,
        *,
        quota_backoff: timedelta = timedelta(minutes=15),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.clock = clock
        self.quota_backoff = quota_backoff
        self.refresher: AccessTokenRefresher | None = None
        self._backoff_until: datetime | None = None
        # (instant, api, errcode) of every quota refusal: what operators are told about.
        self.incidents: list[tuple[datetime, str, int]] = []

    def own_token(self, refresher: AccessTokenRefresher) -> None:
        """Attach the refresher that owns this account's token."""
        self.refresher = refresher

    async def get_json(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """A call that needs no token (the token fetch itself)."""
        api = path.rsplit("/cgi-bin/", 1)[-1]
        try:
            response = await self.http.get(self.base_url + path, params=params)
        except httpx.HTTPError as exc:
            raise WeChatApiError(api, -1, f"unreachable: {exc!r}") from None
        return self._json(api, response)

    async def call(
        self, path: str, *, json_body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """POST (with a JSON body) or GET an API path with the token; returns the JSON answer."""
        response = await self._with_token(path, json_body=json_body, params=params)
        return self._json(path.rsplit("/cgi-bin/", 1)[-1], response)

    async def upload(self, path: str, *, params: dict[str, str], filename: str, mime: str, data: bytes) -> dict[str, Any]:
        """POST a file as multipart form field `media` (media/upload); returns the JSON answer."""
        response = await self._with_token(path, json_body=None, params=params, file=(filename, data, mime))
        return self._json(path.rsplit("/cgi-bin/", 1)[-1], response)

    async def upload_media(self, kind: str, filename: str, mime: str, data: bytes) -> str:
        """A temporary media upload (kept three days by WeChat); the media_id to send it by."""
        answer = await self.upload("/cgi-bin/media/upload", params={"type": kind}, filename=filename, mime=mime,
                                   data=data)
        return str(answer["media_id"])

    async def download(self, path: str, params: dict[str, str]) -> bytes:
        """GET a file (media/get); a JSON body instead of the file is an error answer."""
        response = await self._with_token(path, json_body=None, params=params)
        if "json" in response.headers.get("content-type", "") or response.content[:1] == b"{":
            self._json(path.rsplit("/cgi-bin/", 1)[-1], response)
        return response.content

    async def _with_token(
        self, path: str, *, json_body: dict[str, Any] | None, params: dict[str, str] | None,
        file: tuple[str, bytes, str] | None = None,
    ) -> httpx.Response:
        assert self.refresher is not None, "no token refresher attached"
        api = path.rsplit("/cgi-bin/", 1)[-1]
        now = self.clock.now()
        if self._backoff_until is not None and now < self._backoff_until:
            raise QuotaExceeded(api, QUOTA_EXHAUSTED, "backing off after a quota refusal", self._backoff_until)
        token = await self._token(api, None)
        response = await self._send(api, path, token, json_body, params, file)
        if _errcode(response) in INVALID_TOKEN:
            token = await self._token(api, token)
            response = await self._send(api, path, token, json_body, params, file)
        return response

    async def _token(self, api: str, refused: str | None) -> str:
        assert self.refresher is not None
        try:
            if refused is None:
                return await self.refresher.token()
            return await self.refresher.refresh_after_invalid(refused)
        except WeChatApiError:
            raise
        except Exception as exc:  # the shared token store (Redis) or its lock failed: try again later
            raise WeChatApiError(api, -1, f"token store: {exc!r}") from exc

    async def _send(
        self, api: str, path: str, token: str, json_body: dict[str, Any] | None, params: dict[str, str] | None,
        file: tuple[str, bytes, str] | None = None,
    ) -> httpx.Response:
        query = {**(params or {}), "access_token": token}
        try:
            if file is not None:
                # The form field is "media"; its filename is what a WeCom file message shows.
                return await self.http.post(self.base_url + path, params=query, files={"media": file})
            if json_body is None:
                return await self.http.get(self.base_url + path, params=query)
            # WeChat wants UTF-8 text as is: \u escapes would count against its length limits.
            body = json.dumps(json_body, ensure_ascii=False).encode()
            return await self.http.post(self.base_url + path, params=query, content=body,
                                        headers={"content-type": "application/json"})
        except httpx.HTTPError as exc:
            raise WeChatApiError(api, -1, f"unreachable: {exc!r}") from None

    def _json(self, api: str, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise WeChatApiError(api, -1, f"HTTP {response.status_code}, not JSON") from None
        if not isinstance(data, dict):
            raise WeChatApiError(api, -1, "unexpected answer")
        self._raise_for(api, data)
        return data

    def _raise_for(self, api: str, data: dict[str, Any]) -> None:
        code = int(data.get("errcode") or 0)
        if code == 0:
            return
        message = str(data.get("errmsg", ""))
        now = self.clock.now()
        if code == QUOTA_EXHAUSTED:
            self._backoff_until = now + self.quota_backoff
            self.incidents.append((now, api, code))
            log.error("WeChat quota exhausted on %s (45009): holding calls back until %s", api,
                      self._backoff_until.isoformat())
            raise QuotaExceeded(api, code, message, self._backoff_until)
        if code == USER_QUOTA_EXHAUSTED:
            self.incidents.append((now, api, code))
            log.warning("WeChat per-user message limit reached on %s (45047): %s", api, message)
        raise WeChatApiError(api, code, message)


def _errcode(response: httpx.Response) -> int:
    if "json" not in response.headers.get("content-type", "") and response.content[:1] != b"{":
        return 0
    try:
        return int(response.json().get("errcode") or 0)
    except (ValueError, AttributeError, TypeError):
        return 0


def official_account_fetcher(api: WeChatApiClient, app_id: str, secret: str) -> TokenFetcher:
    """How an Official Account fetches its token."""

    async def fetch() -> tuple[str, int]:
        """GET /cgi-bin/token with the app id and secret."""
        data = await api.get_json("/cgi-bin/token",
                                  {"grant_type": "client_credential", "appid": app_id, "secret": secret})
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    return fetch


def wecom_fetcher(api: WeChatApiClient, corp_id: str, secret: str) -> TokenFetcher:
    """How a WeCom app fetches its token."""

    async def fetch() -> tuple[str, int]:
        """GET /cgi-bin/gettoken with the corp id and the app's secret."""
        data = await api.get_json("/cgi-bin/gettoken", {"corpid": corp_id, "corpsecret": secret})
        return str(data["access_token"]), int(data.get("expires_in", 7200))

    return fetch


def api_http_client(timeout: float = 10.0) -> httpx.AsyncClient:
    """An async HTTP client for the WeChat APIs; requests leave without waiting on Nagle's algorithm."""
    transport = httpx.AsyncHTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    return httpx.AsyncClient(timeout=timeout, transport=transport)


def build_api(
    *,
    name: str,
    base_url: str,
    clock: Clock,
    redis: Redis | None = None,
    wecom: bool,
    account_id: str,
    secret: str,
    http: httpx.AsyncClient | None = None,
) -> WeChatApiClient:
    """An API client with its token refresher (shared through Redis when given)."""
    api = WeChatApiClient(base_url, http or api_http_client(), clock)
    fetch = wecom_fetcher(api, account_id, secret) if wecom else official_account_fetcher(api, account_id, secret)
    api.own_token(AccessTokenRefresher(name, fetch, clock, redis=redis))
    return api
