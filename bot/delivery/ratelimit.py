"""Outbound rate limits shared by every sender: in-process, or through Redis across workers.

Platforms count messages per bot, per chat and per member over sliding windows (PRODUCT.md
§11). A sender asks for a slot under each key it is subject to before it sends; a denied
slot says how long to wait, so nothing is dropped and no 429 is provoked.

Both backends keep an exact sliding-window log: an event is allowed when fewer than `limit`
events happened in the last `period` seconds, so no window of `period` seconds ever holds
more than `limit` events (a fixed-window counter allows twice the limit across a boundary).
Several keys can be taken atomically (`try_acquire_all`): a message subject to the bot-wide,
the per-chat and the per-group limit consumes all three slots or none, so a denied chat never
burns the bot's global budget.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Sleeper = Callable[[float], Awaitable[None]]
TimeSource = Callable[[], float]


@dataclass(frozen=True)
class Limit:
    """At most `limit` events in any `period` seconds under `key`."""

    key: str
    limit: int
    period: float

    def __post_init__(self) -> None:
        if self.limit < 1 or not self.period > 0:
            raise ValueError(f"a rate limit needs limit ≥ 1 and period > 0, got {self.limit}/{self.period}")


class RateLimiter(Protocol):
    """At most `limit` events per `period` seconds for each key, exact across workers."""

    async def try_acquire(self, key: str, *, limit: int, period: float) -> float:
        """Take a slot now and return 0.0, or take nothing and return seconds until one frees."""
        ...

    async def acquire(self, key: str, *, limit: int, period: float) -> None:
        """Wait (on the injected clock/sleeper) until a slot is free, then take it."""
        ...

    async def try_acquire_all(self, limits: Sequence[Limit]) -> float:
        """Take a slot under every limit at once and return 0.0, or take none and return the wait."""
        ...

    async def acquire_all(self, limits: Sequence[Limit]) -> None:
        """Wait until every limit has a free slot, then take them all together."""
        ...


class _Waiting:
    """`acquire` built on `try_acquire_all` and an injectable sleeper (tests never sleep)."""

    def __init__(self, sleep: Sleeper) -> None:
        self._sleep = sleep

    async def try_acquire_all(self, limits: Sequence[Limit]) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    async def try_acquire(self, key: str, *, limit: int, period: float) -> float:
        """Take a slot under one key now (0.0), or return seconds until one frees."""
        return await self.try_acquire_all([Limit(key, limit, period)])

    async def acquire(self, key: str, *, limit: int, period: float) -> None:
        """Wait until a slot under one key is free, then take it."""
        await self.acquire_all([Limit(key, limit, period)])

    async def acquire_all(self, limits: Sequence[Limit]) -> None:
        """Wait until every limit has a free slot, then take them all together."""
        while (wait := await self.try_acquire_all(limits)) > 0:
            await self._sleep(wait)


class _Window:
    __slots__ = ("events", "period")

    def __init__(self, period: float) -> None:
        self.period = period
        self.events: deque[float] = deque()


class MemoryRateLimiter(_Waiting):
    """Sliding-window logs in this process (one worker; tests).

    `now` is a monotonic clock in seconds and `sleep` waits on it; inject both to test
    without sleeping.
    """

    # Drop the logs of idle keys every so many acquisitions, so a broadcast to a million
    # chats does not leave a million empty windows behind.
    SWEEP_EVERY = 4096

    def __init__(self, *, now: TimeSource = time.monotonic, sleep: Sleeper = asyncio.sleep) -> None:
        super().__init__(sleep)
        self._now = now
        self._windows: dict[str, _Window] = {}
        self._since_sweep = 0

    async def try_acquire_all(self, limits: Sequence[Limit]) -> float:
        """Take a slot under every limit at once and return 0.0, or take none and return the wait."""
        # No await between the check and the take: on one event loop this is atomic.
        t = self._now()
        wait = 0.0
        for lim in limits:
            window = self._windows.get(lim.key)
            if window is None:
                window = self._windows[lim.key] = _Window(lim.period)
            window.period = lim.period
            events = window.events
            while events and events[0] <= t - lim.period:
                events.popleft()
            if len(events) >= lim.limit:
                wait = max(wait, events[len(events) - lim.limit] + lim.period - t)
        if wait > 0:
            return wait
        for lim in limits:
            self._windows[lim.key].events.append(t)
        self._since_sweep += 1
        if self._since_sweep >= self.SWEEP_EVERY:
            self._sweep(t)
        return 0.0

    def _sweep(self, t: float) -> None:
        self._since_sweep = 0
        idle = [k for k, w in self._windows.items() if not w.events or w.events[-1] <= t - w.period]
        for key in idle:
            del self._windows[key]


# KEYS: one sorted set per limit. ARGV: now ('' = the Redis server's clock), a unique member,
# then limit and period for each key. Scores are event times in seconds.
_SLIDING_WINDOW_LUA = """
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[1])
end
local member = ARGV[2]
local wait = 0
for i = 1, #KEYS do
  local limit = tonumber(ARGV[1 + 2 * i])
  local period = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - period)
  local n = redis.call('ZCARD', KEYS[i])
  if n >= limit then
    local edge = redis.call('ZRANGE', KEYS[i], n - limit, n - limit, 'WITHSCORES')
    local w = tonumber(edge[2]) + period - now
    if w > wait then wait = w end
  end
end
if wait > 0 then
  return tostring(wait)
end
for i = 1, #KEYS do
  local period = tonumber(ARGV[2 + 2 * i])
  redis.call('ZADD', KEYS[i], now, member)
  redis.call('PEXPIRE', KEYS[i], math.ceil(period * 1000) + 1000)
end
return '0'
"""


class RedisRateLimiter(_Waiting):
    """Sliding-window logs in Redis sorted sets: every worker shares one budget per key.

    Check and take run in one Lua script, so two workers can never both take the last slot.
    Time comes from the Redis server unless `now` is injected (tests), so workers on
    machines whose clocks disagree still count the same windows.
    """

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str = "xinfeng:ratelimit:",
        now: TimeSource | None = None,
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        super().__init__(sleep)
        self._redis = redis
        self._prefix = prefix
        self._now = now
        self._script = redis.register_script(_SLIDING_WINDOW_LUA)

    async def try_acquire_all(self, limits: Sequence[Limit]) -> float:
        """Take a slot under every limit at once and return 0.0, or take none and return the wait."""
        if not limits:
            return 0.0
        args: list[str] = ["" if self._now is None else repr(float(self._now())), uuid.uuid4().hex]
        for lim in limits:
            args += [str(lim.limit), repr(float(lim.period))]
        raw = await self._script(keys=[self._prefix + lim.key for lim in limits], args=args)
        if isinstance(raw, bytes):
            raw = raw.decode()
        return max(0.0, float(raw))
