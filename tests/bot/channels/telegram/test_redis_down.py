"""Redis killed under a running Telegram bot: every user is still answered, nothing counted as a failed attempt."""

from __future__ import annotations

import uuid

import redis.asyncio as redis
from sqlalchemy import select

from bot.delivery.failover import FailoverRateLimiter
from bot.delivery.ratelimit import RedisRateLimiter
from storage.models import OutboxMessage
from tests.faults.servers import PrivateRedis, private_redis  # noqa: F401 — the fixture


async def test_a_user_is_answered_while_redis_is_down(tg, private_redis: PrivateRedis) -> None:  # noqa: F811
    await tg.link("王大娘")
    await tg.stop_bot()
    client = redis.from_url(private_redis.url, socket_timeout=0.5, socket_connect_timeout=0.5)
    tg.limiter = FailoverRateLimiter(RedisRateLimiter(client, prefix=f"t:{uuid.uuid4().hex[:8]}:", timeout=0.5),
                                     probe_every=0.2)
    try:
        await tg.start_bot()
        assert any("我能帮您" in m.text for m in await tg.say("王大娘", "帮助"))
        private_redis.kill()
        answered = await tg.say("王大娘", "帮助")
        assert any("我能帮您" in m.text for m in answered)
        private_redis.start()
        assert any("我能帮您" in m.text for m in await tg.say("王大娘", "帮助"))
        assert tg.fake.stats["429"] == 0
        async with tg.chat.sessions() as s:
            rows = (await s.execute(select(OutboxMessage.status, OutboxMessage.attempts))).all()
        assert rows and all(r == ("sent", 0) for r in rows)
    finally:
        await tg.stop_bot()
        await client.aclose()
