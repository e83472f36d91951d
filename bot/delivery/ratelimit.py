"""Outbound rate limits shared by every sender: in-process, or through Redis across workers.

Platforms count messages per bot, per chat and per member over sliding windows, by when each message *arrives*. A sender asks for a slot under each key it is subject
to before it sends; a denied slot says how long to wait, so nothing is dropped and no 429 is
provoked.

Both backends keep an exact sliding-window log: an event is allowed when fewer than `limit`
events happened in the last `period` seconds, so no window of `period` seconds ever holds
more than `limit` events (a fixed-window counter allows twice the limit across a boundary).
Several keys can be taken atomically (`try_take`, `acquire_all`): a message subject to the
bot-wide, the per-chat and the per-group limit consumes all three slots or none, so a denied
chat never burns the bot's global budget.

A send's slot can be *held* (`hold` seconds at most): it counts as happening at every moment
until the send's answer came back (`Slot.release`), when it is recorded at that instant. The
platform saw the message somewhere between taking the slot and that answer, so counting it at
both ends bounds what the platform counts, whatever the network's and the event loop's jitter
— the guard that keeps the observed rate at or below the configured one. Admitting a send at
`a` looks at every event whose recorded end is after `a - period`: for any window of `period`
at the platform, the last send admitted into it saw all the others, so at most `limit` arrive.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from storage.db import transient

Sleeper = Callable[[float], Awaitable[None]]
TimeSource = Callable[[], float]
# A waiter blocked by sends still in flight looks again this often (their end is not known yet).
RECHECK = 0.02


@dataclass(frozen=True)
class Limit:
    """At most `limit` events in any `period` seconds under `key`."""

    key: str
    limit: int
    period: float

    def __post_init__(self) -> None:
        if self.limit < 1 or not self.period > 0:
            raise ValueError(f"a rate limit needs limit ≥ 1 and period > 0, got {self.limit}/{self.period}")


@dataclass
class Slot:
    """A taken slot under some limits; a held one counts until `release` records when its send ended."""

    limiter: Any
    limits: tuple[Limit, ...]
    member: str
    held: bool
    released: bool = field(default=False)

    async def release(self) -> None:
        """The send's answer came back (or it failed): record the event at this instant.

        If the limiter cannot be told (Redis went away meanwhile), the event keeps counting until
        its hold runs out: more cautious, never less.
        """
        if self.held and not self.released:
            self.released = True
            try:
                await self.limiter.release(self)
            except Exception as exc:
                if not transient(exc):
                    raise


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

    async def try_take(self, limits: Sequence[Limit], *, hold: float = 0.0) -> Slot | float:
        """Take a slot under every limit at once (held up to `hold` s), or none and return the wait."""
        ...

    async def acquire_all(self, limits: Sequence[Limit], *, hold: float = 0.0) -> Slot:
        """Wait until every limit has a free slot, then take them all together."""
        ...

    async def release(self, slot: Slot) -> None:
        """Record a held slot's send as ended now."""
        ...

    async def end_held(self, owner: str, limits: Sequence[Limit]) -> None:
        """Record as ended now the slots a dead worker (`owner`) still held under these limits."""
        ...


class _Waiting(ABC):
    """`acquire` built on `try_take` and an injectable sleeper (tests never sleep); each backend
    (in-process, Redis, the fail-over between them) supplies `try_take` and `release`."""

    def __init__(self, sleep: Sleeper) -> None:
        self._sleep = sleep

    @abstractmethod
    async def try_take(self, limits: Sequence[Limit], *, hold: float = 0.0) -> Slot | float:
        """Take a slot under every limit at once (held up to `hold` s), or none and return the wait."""

    @abstractmethod
    async def release(self, slot: Slot) -> None:
        """Record a held slot's send as ended now."""

    async def try_acquire_all(self, limits: Sequence[Limit]) -> float:
        """Take a slot under every limit at once and return 0.0, or take none and return the wait."""
        taken = await self.try_take(limits)
        return 0.0 if isinstance(taken, Slot) else taken

    async def try_acquire(self, key: str, *, limit: int, period: float) -> float:
        """Take a slot under one key now (0.0), or return seconds until one frees."""
        return await self.try_acquire_all([Limit(key, limit, period)])

    async def acquire(self, key: str, *, limit: int, period: float) -> None:
        """Wait until a slot under one key is free, then take it."""
        await self.acquire_all([Limit(key, limit, period)])

    async def acquire_all(self, limits: Sequence[Limit], *, hold: float = 0.0) -> Slot:
        """Wait until every limit has a free slot, then take them all together."""
        while not isinstance(taken := await self.try_take(limits, hold=hold), Slot):
            await self._sleep(taken)
        return taken


class _Window:
    __slots__ = ("ended", "held", "period")

    def __init__(self, period: float) -> None:
        self.period = period
        # When each finished event ended, in order (events end at "now", which only grows).
        self.ended: deque[float] = deque()
        # Events in flight: member → the latest they can end (taken at + hold).
        self.held: dict[str, float] = {}


class MemoryRateLimiter(_Waiting):
    """Sliding-window logs in this process (one worker; tests; the fallback while Redis is away).

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

    def wait_for(self, limits: Sequence[Limit], t: float) -> float:
        """Seconds until every limit has room at `t` (0.0: room now), taking nothing."""
        wait = 0.0
        for lim in limits:
            window = self._windows.get(lim.key)
            if window is None:
                continue
            window.period = lim.period
            ended, held = window.ended, window.held
            while ended and ended[0] <= t - lim.period:
                ended.popleft()
            for member in [m for m, until in held.items() if until <= t - lim.period]:
                del held[member]  # a send that never reported back counts until its hold ran out
            excess = len(ended) + len(held) - lim.limit
            if excess < 0:
                continue
            if excess < len(ended):
                wait = max(wait, ended[excess] + lim.period - t)
            else:  # only sends still in flight can free a slot: look again shortly
                wait = max(wait, min(RECHECK, min(held.values()) + lim.period - t))
        return wait

    async def try_take(self, limits: Sequence[Limit], *, hold: float = 0.0) -> Slot | float:
        """Take a slot under every limit at once, or none and return the wait."""
        # No await between the check and the take: on one event loop this is atomic.
        t = self._now()
        wait = self.wait_for(limits, t)
        if wait > 0:
            return wait
        member = uuid.uuid4().hex
        for lim in limits:
            window = self._windows.get(lim.key)
            if window is None:
                window = self._windows[lim.key] = _Window(lim.period)
            if hold > 0:
                window.held[member] = t + hold
            else:
                window.ended.append(t)
        self._since_sweep += 1
        if self._since_sweep >= self.SWEEP_EVERY:
            self._sweep(t)
        return Slot(self, tuple(limits), member, held=hold > 0)

    async def release(self, slot: Slot) -> None:
        """Record a held slot's send as ended now."""
        t = self._now()
        for lim in slot.limits:
            window = self._windows.get(lim.key)
            if window is not None and window.held.pop(slot.member, None) is not None:
                window.ended.append(max(t, window.ended[-1]) if window.ended else t)

    async def end_held(self, owner: str, limits: Sequence[Limit]) -> None:
        """Nothing to do: a dead worker's in-process slots died with it."""

    def record(self, limits: Sequence[Limit], t: float, count: int = 1) -> None:
        """Count `count` events that ended at `t` under each limit, whether or not there was room."""
        for lim in limits:
            window = self._windows.get(lim.key)
            if window is None:
                window = self._windows[lim.key] = _Window(lim.period)
            window.ended.extend([t] * count)

    def _sweep(self, t: float) -> None:
        self._since_sweep = 0
        idle = [k for k, w in self._windows.items()
                if not w.held and (not w.ended or w.ended[-1] <= t - w.period)]
        for key in idle:
            del self._windows[key]


# Every script starts by reading "now": the caller's clock when given (tests), else the Redis
# server's own, so every worker's windows share one clock.
_NOW_LUA = """
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[1])
end
"""

# KEYS: one sorted set per limit. ARGV: now ('' = the Redis server's clock), a unique member,
# hold (0 = the event ends now), recheck, then limit and period for each key. Scores are the
# latest instant each event can have ended: its end when known, else its start plus hold; the
# members of held events start with "h".
_SLIDING_WINDOW_LUA = _NOW_LUA + """
local member = ARGV[2]
local hold = tonumber(ARGV[3])
local recheck = tonumber(ARGV[4])
local wait = 0
for i = 1, #KEYS do
  local limit = tonumber(ARGV[3 + 2 * i])
  local period = tonumber(ARGV[4 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - period)
  local n = redis.call('ZCARD', KEYS[i])
  if n >= limit then
    local edge = redis.call('ZRANGE', KEYS[i], n - limit, n - limit, 'WITHSCORES')
    local w = tonumber(edge[2]) + period - now
    if string.sub(edge[1], 1, 1) == 'h' and w > recheck then w = recheck end
    if w > wait then wait = w end
  end
end
if wait > 0 then
  return tostring(wait)
end
local score = now
if hold > 0 then score = now + hold end
for i = 1, #KEYS do
  local period = tonumber(ARGV[4 + 2 * i])
  redis.call('ZADD', KEYS[i], score, member)
  redis.call('PEXPIRE', KEYS[i], math.ceil((period + hold) * 1000) + 1000)
end
return '0'
"""

# KEYS: the sorted sets of a held slot. ARGV: now ('' = server clock), the member. The event ends now.
_RELEASE_LUA = _NOW_LUA + """
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now, ARGV[2])
end
return 1
"""

# KEYS: sorted sets. ARGV: now ('' = server clock), hold, a member prefix, then each key's period.
# Counts one event under every key whatever the window holds: what was sent while the limiter
# could not be asked, told afterwards (see `bot.delivery.failover`).
_RECORD_LUA = _NOW_LUA + """
local hold = tonumber(ARGV[2])
for i = 1, #KEYS do
  local period = tonumber(ARGV[3 + i])
  redis.call('ZADD', KEYS[i], now + hold, ARGV[3])
  redis.call('PEXPIRE', KEYS[i], math.ceil((period + hold) * 1000) + 1000)
end
return 1
"""


# KEYS: sorted sets. ARGV: now ('' = server clock), a dead worker's member prefix. Its held slots end
# now: its process is gone, so whatever it had in flight has arrived or never will.
_END_HELD_LUA = _NOW_LUA + """
local prefix = ARGV[2]
for i = 1, #KEYS do
  local found = redis.call('ZRANGE', KEYS[i], 0, -1, 'WITHSCORES')
  for j = 1, #found, 2 do
    if string.sub(found[j], 1, #prefix) == prefix and tonumber(found[j + 1]) > now then
      redis.call('ZADD', KEYS[i], 'XX', now, found[j])
    end
  end
end
return 1
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
        owner: str = "",
        now: TimeSource | None = None,
        sleep: Sleeper = asyncio.sleep,
        timeout: float = 2.0) -> None:
        super().__init__(sleep)
        self._redis = redis
        self._prefix = prefix
        # Held slots are named after the worker holding them, so that a worker taking over a dead
        # one's rows can end its slots (`end_held`) rather than wait out their hold.
        self._held_prefix = _held_prefix(owner)
        self._now = now
        # A Redis that stopped answering (frozen, unreachable) fails fast instead of holding every sender.
        self._timeout = timeout
        self._take = redis.register_script(_SLIDING_WINDOW_LUA)
        self._release = redis.register_script(_RELEASE_LUA)
        self._record = redis.register_script(_RECORD_LUA)
        self._end_held = redis.register_script(_END_HELD_LUA)

    def _clock(self) -> str:
        return "" if self._now is None else repr(float(self._now()))

    async def try_take(self, limits: Sequence[Limit], *, hold: float = 0.0) -> Slot | float:
        """Take a slot under every limit at once, or none and return the wait."""
        member = (self._held_prefix if hold > 0 else "e") + uuid.uuid4().hex
        if not limits:
            return Slot(self, (), member, held=False)
        args: list[str] = [self._clock(), member, repr(float(hold)), repr(RECHECK)]
        for lim in limits:
            args += [str(lim.limit), repr(float(lim.period))]
        raw = await asyncio.wait_for(self._take(keys=[self._prefix + lim.key for lim in limits], args=args),
                                     self._timeout)
        if isinstance(raw, bytes):
            raw = raw.decode()
        wait = max(0.0, float(raw))
        return wait if wait > 0 else Slot(self, tuple(limits), member, held=hold > 0)

    async def release(self, slot: Slot) -> None:
        """Record a held slot's send as ended now (on the server's clock)."""
        await asyncio.wait_for(self._release(keys=[self._prefix + lim.key for lim in slot.limits],
                                             args=[self._clock(), slot.member]), self._timeout)

    async def record(self, limits: Sequence[Limit], *, hold: float = 0.0, member: str | None = None) -> Slot:
        """Count one event under every limit, room or not (a send the failover let through)."""
        member = member or ("h" if hold > 0 else "e") + uuid.uuid4().hex
        args = [self._clock(), repr(float(hold)), member] + [repr(float(lim.period)) for lim in limits]
        await asyncio.wait_for(self._record(keys=[self._prefix + lim.key for lim in limits], args=args),
                               self._timeout)
        return Slot(self, tuple(limits), member, held=hold > 0)

    async def end_held(self, owner: str, limits: Sequence[Limit]) -> None:
        """Record as ended now the slots a dead worker (`owner`) still held under these limits."""
        if limits:
            await asyncio.wait_for(self._end_held(keys=list(dict.fromkeys(self._prefix + lim.key for lim in limits)),
                                                  args=[self._clock(), _held_prefix(owner)]), self._timeout)

    async def ping(self) -> bool:
        """Whether the server answers now."""
        return bool(await asyncio.wait_for(self._redis.ping(), self._timeout))


def _held_prefix(owner: str) -> str:
    """How a held slot's member starts: "h" (what the scripts look for), then its worker's name."""
    return "h" + (owner.replace("/", "_") + "/" if owner else "")
