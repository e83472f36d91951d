"""Pictures and files on Telegram: 统计's map and chart arrive as photos, an export as a document,
and a file over the Bot API's 50 MB as a one-time dashboard link that opens it — against the fake,
which holds uploads to Telegram's limits."""

from __future__ import annotations

import re

import httpx
import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError

from bot.channels.telegram.send import DOCUMENT_LIMIT
from bot.dashboard import SentFileLinks, dashboard_routes
from bot.web import build_app
from storage.datamap.boundaries import Boundaries
from storage.datamap.divisions import package_root
from storage.messaging.attachments import attach
from storage.models import OutboxMessage

MAP_INSTALLED = Boundaries(package_root()).available
PUBLIC = "http://xinfeng.test"


async def test_stats_arrives_as_photos_after_the_figures(tg) -> None:
    await tg.link("中心管理员")
    uid = tg.user_id("中心管理员")
    sent = await tg.say("中心管理员", "统计")
    assert "📊 北票市新时代文明实践中心" in sent[0].text
    assert [m.kind for m in sent] == ["text"] + ["photo"] * (2 if MAP_INSTALLED else 1)
    files = tg.fake.files[uid]
    assert [name for _, name, _ in files] == (["map.png", "chart.png"] if MAP_INSTALLED else ["chart.png"])
    assert all(method == "photo" and data.startswith(b"\x89PNG") for method, _, data in files)


async def test_an_export_arrives_as_a_document(tg) -> None:
    await tg.link("中心管理员")
    uid = tg.user_id("中心管理员")
    sent = await tg.say("中心管理员", "导出 志愿者 csv")
    assert "📄 北票市新时代文明实践中心" in sent[0].text and sent[-1].kind == "document"
    [(method, name, data)] = tg.fake.files[uid]
    assert method == "document" and name.endswith(".csv") and data.startswith("\ufeff".encode())


async def test_a_file_over_50_mb_is_sent_as_a_link_that_opens_it(tg) -> None:
    await tg.link("中心管理员")
    uid = tg.user_id("中心管理员")
    tg.channel.sender.links = SentFileLinks(tg.chat.sessions, tg.chat.clock, PUBLIC)
    big = b"x" * (DOCUMENT_LIMIT + 1)
    async with tg.chat.sessions() as s:
        row = OutboxMessage(platform="telegram", address=str(uid), recipient_label="中心管理员",
                            person_id=tg.chat.ids["中心管理员"], text="📄 全年工时", created_at=tg.chat.clock.now())
        s.add(row)
        await s.flush()
        await attach(s, row, kind="document", filename="工时.csv", mime="text/csv", data=big, now=tg.chat.clock.now())
        await s.commit()
    tg.relay_loop.kick()
    await tg.settle()
    assert uid not in tg.fake.files  # nothing over the limit was uploaded
    note = tg.last_to("中心管理员").text
    assert "工时.csv（50.0 MB）超过 Telegram 50 MB 的上限" in note
    link = re.search(r"http://xinfeng\.test(/dashboard/login\?\S+)", note)
    assert link
    app = build_app(dashboard_routes(tg.chat.sessions, tg.chat.clock))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC,
                                 follow_redirects=True) as browser:
        page = await browser.get(link.group(1))
        assert page.status_code == 200 and "工时.csv" in page.text
        got = await browser.get(f"/dashboard/sent/{row.id}/0")
        assert got.status_code == 200 and got.content == big
        assert "attachment" in got.headers["content-disposition"]


async def test_the_fake_holds_uploads_to_the_bot_api_limits(fake_api) -> None:
    """The limits the sender keeps to are real in the fake: it refuses what Telegram refuses."""
    for uid in (81, 82):  # one chat each: the fake allows one message a second per chat
        fake_api.add_user(uid, "己")
        fake_api.started.add(uid)
    bot = Bot(fake_api.token, base_url=fake_api.base_url)
    async with bot:
        with pytest.raises(NetworkError, match="Request Entity Too Large"):
            await bot.send_document(81, document=b"x" * (DOCUMENT_LIMIT + 1), filename="big.bin")
        tall = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (100).to_bytes(4, "big") + (9990).to_bytes(4, "big") + b"\0" * 16
        with pytest.raises(BadRequest, match="(?i)photo_invalid_dimensions"):
            await bot.send_photo(82, photo=tall)
    assert fake_api.files == {}
