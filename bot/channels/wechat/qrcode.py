"""A WeChat Official Account's parametric QR codes (带参数的二维码), drawn where a message asks for a deep link.

`qrcode/create` with `QR_LIMIT_STR_SCENE` makes a permanent code for a scene string (1–64
characters; an account may have 100,000 of them): scanning it follows the account, or for a
follower opens the chat, and WeChat sends the bot a `subscribe`/`SCAN` event with
`qrscene_<scene>` — which the channel already reads as `/follow <scene>`, so `join_KJ2026`
joins that team. The answer's `url` is what the code encodes; the PNG is drawn from it here
(no second request for WeChat's own picture). Codes are permanent, so each scene is asked for
once per process.
"""

from __future__ import annotations

import logging

from bot.channels.deeplinks import draw_deep_links
from bot.channels.wechat.api import WeChatApiClient, WeChatApiError
from handlers.core.messages import OutboundMessage

log = logging.getLogger(__name__)

CREATE = "/cgi-bin/qrcode/create"
MAX_SCENE = 64
# The scenes remembered per process (each a permanent code: the same url every time).
MAX_CACHED = 10_000


class SceneCodes:
    """One account's permanent scene QR codes: the url each encodes, asked for once."""

    def __init__(self, api: WeChatApiClient) -> None:
        self.api = api
        self._urls: dict[str, str] = {}

    async def url(self, scene: str) -> str | None:
        """What the account's permanent QR code for `scene` encodes; None when WeChat will not make one now."""
        if not 1 <= len(scene) <= MAX_SCENE:
            return None
        if scene in self._urls:
            return self._urls[scene]
        body = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}}
        try:
            answer = await self.api.call(CREATE, json_body=body)
        except WeChatApiError as exc:  # no code this time: the message still says how to join by typing
            log.warning("WeChat made no QR code for scene %s: %s", scene, exc)
            return None
        url = str(answer.get("url") or "")
        if not url.startswith("http"):
            log.warning("WeChat answered qrcode/create for %s without a url: %s", scene, answer)
            return None
        if len(self._urls) >= MAX_CACHED:
            self._urls.clear()
        self._urls[scene] = url
        return url

    async def draw(self, message: OutboundMessage) -> OutboundMessage:
        """The message with its deep-link QR requests drawn as this account's scene codes."""
        return await draw_deep_links(message, self.url, show_links=False)
