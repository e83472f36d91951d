"""邀请码 on a WeChat Official Account: the account's permanent scene QR code, which joins the team when scanned.

The fake WeChat API learns `qrcode/create` here (added to the session's server once, its
state per test): QR_LIMIT_STR_SCENE codes for scene strings of 1-64 characters, the same url
for the same scene, as WeChat answers, behind the account's access token.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.wechat.qrcode import SceneCodes
from storage.people.identities import link_identity
from tests.bot.channels.qr_reading import encodes

CREATE = "/oa/cgi-bin/qrcode/create"
SAVED = Path(os.environ.get("XINFENG_TEST_QR_DIR", "/tmp")) / "xinfeng-invite-wechat.png"


@dataclass
class QRBook:
    """The codes the fake account made (scene → url), every request, and an error to answer with."""

    codes: dict[str, str] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    refuse: int = 0


def _install(fake: Any) -> None:
    """Teach the session's fake server qrcode/create (once)."""
    if any(getattr(r, "path", None) == CREATE for r in fake.app.router.routes):
        return

    async def create(request: Request) -> Response:
        book: QRBook = fake.qr_book
        refused = await fake._oa_guard(request, "qrcode/create")
        if refused is not None:
            return refused
        body = json.loads(await request.body())
        book.calls.append(body)
        if book.refuse:
            return JSONResponse({"errcode": book.refuse, "errmsg": "system error"})
        if body.get("action_name") not in ("QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"):
            return JSONResponse({"errcode": 40052, "errmsg": "invalid action name"})
        scene = str(body.get("action_info", {}).get("scene", {}).get("scene_str", ""))
        if not 1 <= len(scene) <= 64:
            return JSONResponse({"errcode": 40053, "errmsg": "invalid action info"})
        digest = hashlib.sha256(scene.encode()).hexdigest()[:20]
        url = book.codes.setdefault(scene, f"http://weixin.qq.com/q/02{digest}")
        return JSONResponse({"ticket": f"gQ{digest}==", "url": url})

    fake.app.router.routes.append(Route(CREATE, create, methods=["POST"]))


@pytest.fixture
def qr_book(fake_api: Any) -> QRBook:
    """This test's qrcode/create state on the fake account."""
    _install(fake_api)
    fake_api.qr_book = QRBook()
    return fake_api.qr_book


async def _captain_on_wechat(world: Any, openid: str) -> None:
    async with world.chat.sessions() as s:
        await link_identity(s, platform="wechat", external_id=openid, person_id=world.chat.ids["陈刚"],
                            now=world.chat.clock.now())
        await s.commit()


@pytest.mark.both_backends
async def test_a_captains_invite_is_the_accounts_scene_qr_code_and_scanning_it_joins(world, qr_book) -> None:
    await _captain_on_wechat(world, "o-captain")
    answer = await world.resident.text("o-captain", "邀请码")
    assert answer.reply is None  # a message with a picture is no passive reply: it goes by the relay
    await world.settle()
    [text] = world.fake.oa.texts_to("o-captain")
    assert "「科技服务队」的邀请码：KJ2026" in text and text.endswith("加入 KJ2026 姓名\n扫下面的二维码也可以。")
    assert "t.me" not in text and "链接" not in text
    [image] = [upload for who, upload in world.fake.oa.images if who == "o-captain"]
    assert qr_book.calls == [{"action_name": "QR_LIMIT_STR_SCENE",
                              "action_info": {"scene": {"scene_str": "join_KJ2026"}}}]
    assert image.filename == "join_KJ2026.png" and encodes(image.data, qr_book.codes["join_KJ2026"])
    SAVED.write_bytes(image.data)

    # The code is permanent: asking again draws it again without asking WeChat.
    await world.resident.text("o-captain", "邀请")
    await world.settle()
    assert len(qr_book.calls) == 1 and len([w for w, _ in world.fake.oa.images if w == "o-captain"]) == 2

    # Scanning it: WeChat sends the new follower's subscribe with the scene, and they are in the team.
    answer = await world.resident.event("o-newcomer", "subscribe", "qrscene_join_KJ2026")
    await world.settle()
    told = [answer.reply or "", *world.fake.oa.texts_to("o-newcomer")]
    assert any("加入「科技服务队」" in t for t in told), told


async def test_when_wechat_makes_no_code_the_words_to_type_still_go(world, qr_book) -> None:
    qr_book.refuse = -1
    await _captain_on_wechat(world, "o-captain")
    await world.resident.text("o-captain", "邀请码")
    await world.settle()
    [text] = world.fake.oa.texts_to("o-captain")
    assert text.endswith("加入 KJ2026 姓名") and "二维码" not in text  # no code spoken of that is not there
    assert world.fake.oa.images == [] and len(qr_book.calls) == 1


async def test_scene_strings_wechat_cannot_take_are_not_asked_for(world, qr_book) -> None:
    codes = SceneCodes(world.oa.api)
    assert await codes.url("") is None and await codes.url("x" * 65) is None
    assert qr_book.calls == []
    assert await codes.url("join_KJ2026") == qr_book.codes["join_KJ2026"]


async def test_a_follower_scanning_the_code_joins_too(world, qr_book) -> None:
    # Someone who already follows the account gets a SCAN event, its key the bare scene.
    await world.resident.event("o-follower", "subscribe")
    await world.settle()
    answer = await world.resident.event("o-follower", "SCAN", "join_KJ2026")
    await world.settle()
    told = [answer.reply or "", *world.fake.oa.texts_to("o-follower")]
    assert any("加入「科技服务队」" in t for t in told), told
    # A scan of a code whose invite was replaced (换邀请码) joins nothing and says why.
    answer = await world.resident.event("o-late", "SCAN", "join_OLD2025")
    await world.settle()
    told = [answer.reply or "", *world.fake.oa.texts_to("o-late")]
    assert any("邀请码不对" in t for t in told) and not any("加入「" in t for t in told), told
