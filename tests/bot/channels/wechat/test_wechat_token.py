"""The access_token: cached with its expiry, one coordinated refresh, shared by workers through Redis."""

from __future__ import annotations

import asyncio
import os
import uuid

import httpx
import pytest

from bot.channels.wechat.api import (
    QuotaExceeded,
    WeChatApiError,
    api_http_client,
    build_api,
)

APP_ID = "wx5f1e2d3c4b5a6978"
APP_SECRET = "oa-app-secret"
REDIS_URL = os.environ.get("XINFENG_TEST_REDIS_URL")


def _worker(fake_api, clock, redis=None, prefix: str = "xinfeng:wechat:", secret: str = APP_SECRET):
    api = build_api(name=f"oa:{APP_ID}", base_url=fake_api.base_url + "/oa", clock=clock, redis=redis,
                    wecom=False, account_id=APP_ID, secret=secret, http=api_http_client())
    if redis is not None:
        assert api.refresher is not None
        api.refresher._key = f"{prefix}token:oa:{APP_ID}"
        api.refresher._lock_key = f"{prefix}token-lock:oa:{APP_ID}"
    return api


async def _menu(api) -> None:
    await api.call("/cgi-bin/menu/create", json_body={"button": [{"type": "click", "name": "帮助", "key": "帮助"}]})


async def test_token_is_cached_until_it_expires_on_the_clock(fake_api, clock) -> None:
    api = _worker(fake_api, clock)
    for _ in range(5):
        await _menu(api)
    assert fake_api.oa.tokens.fetches == 1
    clock.advance(seconds=7200 - 301)  # just over five minutes left: still used
    await _menu(api)
    assert fake_api.oa.tokens.fetches == 1
    clock.advance(seconds=2)  # under five minutes left: refreshed ahead of time
    await _menu(api)
    assert fake_api.oa.tokens.fetches == 2
    clock.advance(seconds=7200)
    await _menu(api)
    assert fake_api.oa.tokens.fetches == 3 and len(fake_api.oa.menus) == 8
    await api.http.aclose()


async def test_invalidated_token_gets_one_refresh_for_many_concurrent_calls(fake_api, clock) -> None:
    api = _worker(fake_api, clock)
    await _menu(api)
    # Someone else fetched a token (an operator's script): ours now answers 40001.
    async with httpx.AsyncClient() as other:
        await other.get(fake_api.base_url + "/oa/cgi-bin/token",
                        params={"grant_type": "client_credential", "appid": APP_ID, "secret": APP_SECRET})
    assert fake_api.oa.tokens.fetches == 2
    await asyncio.gather(*(_menu(api) for _ in range(10)))
    assert fake_api.oa.tokens.fetches == 3 and len(fake_api.oa.menus) == 11
    await api.http.aclose()


async def test_expired_token_42001_is_refreshed_once(fake_api, clock) -> None:
    api = _worker(fake_api, clock)
    await _menu(api)
    fake_api.oa.tokens.expire_all(clock.now())
    await asyncio.gather(*(_menu(api) for _ in range(5)))
    assert fake_api.oa.tokens.fetches == 2 and len(fake_api.oa.menus) == 6
    await api.http.aclose()


async def test_a_wrong_secret_is_an_error_not_a_loop(fake_api, clock) -> None:
    api = _worker(fake_api, clock, secret="wrong")
    with pytest.raises(WeChatApiError) as caught:
        await _menu(api)
    assert caught.value.errcode == 40125 and fake_api.oa.tokens.fetches == 0
    await api.http.aclose()


async def test_token_fetch_quota_backs_off(fake_api, clock) -> None:
    fake_api.oa.tokens.daily_fetch_limit = 0
    api = _worker(fake_api, clock)
    with pytest.raises(QuotaExceeded):
        await _menu(api)
    with pytest.raises(QuotaExceeded):  # held back locally, WeChat is not asked again
        await _menu(api)
    assert len(api.incidents) == 1
    await api.http.aclose()


@pytest.fixture
async def shared_redis():
    if not REDIS_URL:
        pytest.skip("XINFENG_TEST_REDIS_URL not set")
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    prefix = f"xinfeng-test:{uuid.uuid4().hex[:10]}:"
    yield client, prefix
    keys = [k async for k in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_two_workers_sharing_redis_fetch_the_token_once(fake_api, clock, shared_redis) -> None:
    client, prefix = shared_redis
    first, second = _worker(fake_api, clock, client, prefix), _worker(fake_api, clock, client, prefix)
    await asyncio.gather(*(_menu(w) for w in (first, second) for _ in range(10)))
    assert fake_api.oa.tokens.fetches == 1
    assert first.refresher.fetches + second.refresher.fetches == 1
    # Both see the token invalidated at once: still one refresh between them.
    fake_api.oa.tokens.expire_all(clock.now())
    await asyncio.gather(*(_menu(w) for w in (first, second) for _ in range(10)))
    assert fake_api.oa.tokens.fetches == 2 and len(fake_api.oa.menus) == 40
    # A third worker starting later uses the shared token.
    third = _worker(fake_api, clock, client, prefix)
    await _menu(third)
    assert fake_api.oa.tokens.fetches == 2
    for w in (first, second, third):
        await w.http.aclose()
