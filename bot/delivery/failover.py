"""The shared rate limiter with a way down: when Redis is away, each worker keeps to its share.

Normally every slot is taken in Redis (`RedisRateLimiter`), one budget for all workers. When
Redis fails, sends do not fail with it: this worker falls back to its own in-process windows,
with each limit cut to its share (limit ÷ live workers, and a slower period where a limit of
one cannot be cut), so the workers together still keep under the platform's limit:

- going down at F: every Redis-counted send happened before F, so each key is first left quiet
  for one (shared) period after F before the share is used — the two never overlap;
- coming back: Redis has not seen what the shares sent, so for one longest period (plus one
  probe interval, within which every worker has noticed the return) sends keep to the share
  *and* are recorded in Redis; after that Redis' windows hold everything again and decide alone.

Redis is probed at most once per `probe_every` seconds while down. The share's divisor is
`workers()` — the number of live delivery workers, read from their heartbeats.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from bot.delivery.ratelimit import Limit, MemoryRateLimiter, RedisRateLimiter, Sleeper, Slot, TimeSource, _Waiting
from storage.db import transient

log = logging.getLogger(__name__)


def share_of(limit: Limit, workers: int) -> Limit:
    """One worker's part of a limit shared by `workers`: never more than limit/workers per period."""
    if workers <= 1:
        return limit
    count = max(1, limit.limit // workers)
    # count/period' ≤ limit/(workers·period): a limit of 1 per s between 2 workers is 1 per 2 s each.
    period = max(limit.period, limit.period * count * workers / limit.limit)
    return Limit(limit.key, count, period)


class FailoverRateLimiter(_Waiting):
    """Redis while it answers; this worker's share of each budget while it does not."""

    def __init__(
        self,
        primary: RedisRateLimiter,
        *,
        workers: Callable[[], int] = lambda: 1,
        probe_every: float = 1.0,
        now: TimeSource = time.monotonic,
        sleep: Sleeper | None = None,
        stats: Counter[str] | None = None,
    ) -> None:
        import asyncio

        super().__init__(sleep or asyncio.sleep)
        self.primary = primary
        self.workers = workers
        self.probe_every = probe_every
        self._now = now
        self.local = MemoryRateLimiter(now=now, sleep=self._sleep)
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self._down_since: float | None = None
        self._next_probe = 0.0
        # Redis is back: until then, shares still decide and every send is also told to Redis.
        self._blend_until: float | None = None
        self._longest = 0.0  # the longest (shared) period used while down
        self._quiet: dict[str, float] = {}  # key → no share before (one period after going down)

    @property
    def degraded(self) -> bool:
        """Whether sends are kept to this worker's share (Redis down, or just back)."""
        return self._down_since is not None or self._blend_until is not None

    async def try_take(self, limits: Sequence[Limit], *, hold: float = 0.0) -> Slot | float:
        """Take from Redis, or from this worker's share while Redis is away or just back."""
        t = self._now()
        if self._blend_until is not None and t >= self._blend_until:
            self._blend_until = None
            self._quiet.clear()
            log.warning("rate limits: Redis decides again")
        if not self.degraded:
            try:
                return await self.primary.try_take(limits, hold=hold)
            except Exception as exc:
                if not transient(exc):
                    raise
                self._go_down(t, exc)
        elif self._down_since is not None and t >= self._next_probe:
            await self._probe(t)
        return await self._take_share(limits, hold, t)

    def _go_down(self, t: float, exc: BaseException) -> None:
        self._down_since, self._next_probe = t, t + self.probe_every
        self._blend_until = None
        self.stats["limiter_fallback"] += 1
        log.warning("rate limits: Redis unreachable (%r); each worker keeps to its share", exc)

    async def _probe(self, t: float) -> None:
        self._next_probe = t + self.probe_every
        try:
            await self.primary.ping()
        except Exception as exc:
            if not transient(exc):
                raise
            return
        self._down_since = None
        self._blend_until = t + self._longest + self.probe_every
        self.stats["limiter_recovered"] += 1
        log.warning("rate limits: Redis is back; shares decide for %.1f s more", self._longest + self.probe_every)

    async def _take_share(self, limits: Sequence[Limit], hold: float, t: float) -> Slot | float:
        workers = max(1, self.workers())
        shares = [share_of(lim, workers) for lim in limits]
        wait = 0.0
        for lim in shares:
            self._longest = max(self._longest, lim.period)
            if self._down_since is not None:
                quiet = self._quiet.setdefault(lim.key, self._down_since + lim.period)
                wait = max(wait, quiet - t)
        if wait > 0:
            return wait
        taken = await self.local.try_take(shares, hold=hold)
        if not isinstance(taken, Slot):
            return taken
        self.stats["limiter_share"] += 1
        if self._blend_until is not None:
            try:  # told to Redis, so that its windows are whole when it decides alone again
                await self.primary.record(limits, hold=hold, member=taken.member)
            except Exception as exc:
                if not transient(exc):
                    raise
                self._go_down(t, exc)
        return Slot(self, tuple(limits), taken.member, held=taken.held)

    async def release(self, slot: Slot) -> None:
        """Record a held slot's end locally and, when Redis answers, there too."""
        await self.local.release(Slot(self.local, tuple(share_of(lim, max(1, self.workers())) for lim in slot.limits),
                                      slot.member, held=True))
        if self._down_since is None:
            try:
                await self.primary.release(slot)
            except Exception as exc:
                if not transient(exc):
                    raise


    async def end_held(self, owner: str, limits: Sequence[Limit]) -> None:
        """End a dead worker's held slots in Redis (this worker's share holds none of them)."""
        try:
            await self.primary.end_held(owner, limits)
        except Exception as exc:
            if not transient(exc):
                raise  # Redis away: its slots end when their hold runs out


def limiter_for(redis: Any, *, workers: Callable[[], int] = lambda: 1,
                stats: Counter[str] | None = None, owner: str = "") -> Any:
    """The limiter a channel uses: shared through Redis with a fall-back, or in-process without Redis.

    `owner` names this worker's held slots (its delivery worker name), see `RedisRateLimiter.end_held`.
    """
    if redis is None:
        return MemoryRateLimiter()
    return FailoverRateLimiter(RedisRateLimiter(redis, owner=owner), workers=workers, stats=stats)

