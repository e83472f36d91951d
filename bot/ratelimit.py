"""Outbound rate limits shared by every sender: in-process, or through Redis across workers.

Platforms count messages per bot, per chat and per member over sliding windows (PRODUCT.md
§11). A sender asks for a slot under each key it is subject to before it sends; a denied
slot says how long to wait, so nothing is dropped and no 429 is provoked.
"""

from __future__ import annotations

from typing import Protocol


class RateLimiter(Protocol):
    """At most `limit` events per `period` seconds for each key, exact across workers."""

    async def try_acquire(self, key: str, *, limit: int, period: float) -> float:
        """Take a slot now and return 0.0, or take nothing and return seconds until one frees."""
        ...

    async def acquire(self, key: str, *, limit: int, period: float) -> None:
        """Wait (on the injected clock/sleeper) until a slot is free, then take it."""
        ...
