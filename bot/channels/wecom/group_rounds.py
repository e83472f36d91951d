"""`xinfeng run`'s customer-group rounds: the sender every minute, with the Official Account's QR codes.

Built from settings when WeCom is configured (bot/service.py); the work itself is
`bot.channels.wecom.group_sender.CustomerGroupSender`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from bot.channels.wecom.customer_groups import CustomerGroupsApi
from bot.channels.wecom.group_sender import CustomerGroupSender, SceneQr

log = logging.getLogger(__name__)


async def run_customer_groups(settings: Any, rt: Any, stop: asyncio.Event, every: float = 60.0) -> None:
    """`xinfeng run`'s customer-group round, every minute until `stop` (WeCom configured)."""
    from bot.channels.wecom.channel import wecom_api

    api = wecom_api(settings, rt.clock, rt.redis)
    sender = CustomerGroupSender(rt.sessions, rt.clock, CustomerGroupsApi(api), tz=settings.tz,
                                 quota=settings.wecom_group_quota,
                                 remind_after=timedelta(minutes=settings.wecom_group_remind_minutes),
                                 deadline=timedelta(minutes=settings.wecom_group_deadline_minutes),
                                 scene_qr=official_account_qr(settings, rt))
    try:
        while not stop.is_set():
            try:
                await sender.run_once()
            except Exception:  # WeCom or the database away: the next round tries again
                log.exception("customer-group round failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
    finally:
        await api.http.aclose()


def official_account_qr(settings: Any, rt: Any) -> SceneQr | None:
    """The Official Account's scene QR codes as PNGs (bot/channels/wechat/qrcode.py), when it is configured."""
    if not (settings.wechat_app_id and settings.wechat_app_secret):
        return None
    from bot.channels.deeplinks import qr_png
    from bot.channels.wechat.channel import official_account_api
    from bot.channels.wechat.qrcode import SceneCodes

    codes = SceneCodes(official_account_api(settings, rt.clock, rt.redis))

    async def draw(scene: str) -> bytes | None:
        url = await codes.url(scene)
        return None if url is None else qr_png(url)

    return draw
