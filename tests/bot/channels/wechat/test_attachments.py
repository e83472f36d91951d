"""Pictures and files on WeChat, against the fake (which holds media to the platforms' limits).

Official Account: 统计's pictures as temporary media and image messages inside the 48-hour
window; 导出 as a link card (an Official Account has no file messages) inside it and as a
template message with the link outside it — the link opens the file, once, for its recipient.
WeCom: pictures and files as media and image/file messages; a file over 20 MB as a link.
"""

from __future__ import annotations

import re

import httpx
import pytest

from bot.channels.wechat.api import WeChatApiError
from bot.channels.wecom.channel import FILE_LIMIT
from bot.dashboard import SentFileLinks, dashboard_routes
from bot.web import build_app
from storage.datamap.boundaries import Boundaries
from storage.datamap.divisions import package_root
from storage.messaging.attachments import attach
from storage.models import OutboxMessage
from storage.people.identities import link_identity

MAP_INSTALLED = Boundaries(package_root()).available
PUBLIC = "http://xinfeng.test"
PICTURES = ["map.png", "chart.png"] if MAP_INSTALLED else ["chart.png"]


async def _admin_on(world, platform: str, external_id: str) -> None:
    """中心管理员 uses WeChat too; the channels may send them links."""
    async with world.chat.sessions() as s:
        await link_identity(s, platform=platform, external_id=external_id, person_id=world.chat.ids["中心管理员"],
                            now=world.chat.clock.now())
        await s.commit()
    world.oa.links = world.wecom.links = SentFileLinks(world.chat.sessions, world.chat.clock, PUBLIC)


async def _open(world, url: str) -> httpx.Response:
    """Open a link the way the recipient's phone would: log in, land on the file list."""
    app = build_app(dashboard_routes(world.chat.sessions, world.chat.clock))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC,
                                 follow_redirects=True) as browser:
        page = await browser.get(url.removeprefix(PUBLIC))
        files = re.findall(r"href='(/dashboard/sent/\d+/\d+)'", page.text)
        assert page.status_code == 200 and files, page.text
        got = await browser.get(files[0])
        assert got.status_code == 200
        again = await httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC).get(
            url.removeprefix(PUBLIC))
        assert again.status_code == 403  # the link works once
        return got


async def test_stats_on_the_official_account_arrives_as_images(world) -> None:
    await _admin_on(world, "wechat", "o-admin")
    answer = await world.resident.text("o-admin", "统计")
    assert answer.reply is None  # a message with pictures is no passive reply: it goes by the relay
    await world.settle()
    [text] = world.fake.oa.texts_to("o-admin")
    assert text.startswith("📊 北票市新时代文明实践中心")
    images = [upload for who, upload in world.fake.oa.images if who == "o-admin"]
    assert [i.filename for i in images] == PICTURES and all(i.data.startswith(b"\x89PNG") for i in images)


@pytest.mark.both_backends
async def test_an_export_inside_the_window_is_a_link_card_that_opens_the_file(world) -> None:
    await _admin_on(world, "wechat", "o-admin")
    await world.resident.text("o-admin", "导出 志愿者 csv")
    await world.settle()
    [text] = world.fake.oa.texts_to("o-admin")
    assert text.startswith("📄 北票市新时代文明实践中心")
    [(who, article)] = world.fake.oa.news
    assert who == "o-admin" and article["title"].startswith("📎 ") and article["title"].endswith(".csv")
    got = await _open(world, article["url"])
    assert got.content.startswith("\ufeff".encode()) and "attachment" in got.headers["content-disposition"]


async def test_an_export_outside_the_window_is_a_template_with_the_link(world) -> None:
    await _admin_on(world, "wechat", "o-admin")
    await world.resident.text("o-admin", "导出 志愿者 csv")
    world.chat.clock.advance(hours=49)  # the relay gets to it after the window has closed
    await world.settle()
    assert world.fake.oa.texts_to("o-admin") == [] and world.fake.oa.news == []
    [template] = world.fake.oa.templates_to("o-admin")
    assert template["template_id"] == "TPL_GENERAL_NOTICE"
    assert template["data"]["first"]["value"].startswith("📄 北票市新时代文明实践中心")
    assert "点击查看文件" in template["data"]["remark"]["value"]
    got = await _open(world, template["url"])
    assert got.content.startswith("\ufeff".encode())


async def test_the_official_account_takes_images_to_10_mb_and_no_files(world) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    assert await world.oa.api.upload_media("image", "a.png", "image/png", png)
    with pytest.raises(WeChatApiError) as too_big:
        await world.oa.api.upload_media("image", "a.png", "image/png", png + b"\0" * (10 * 2**20))
    assert too_big.value.errcode == 40009
    with pytest.raises(WeChatApiError) as no_files:
        await world.oa.api.upload_media("file", "a.csv", "text/csv", b"a,b,c\r\n1,2,3\r\n")
    assert no_files.value.errcode == 40004


async def test_stats_and_exports_on_wecom_arrive_as_image_and_file_messages(world) -> None:
    await _admin_on(world, "wecom", "wc-admin")
    world.fake.wecom.members.add("wc-admin")
    await world.member.text("wc-admin", "统计")
    await world.member.text("wc-admin", "导出 志愿者 csv")
    await world.settle()
    files = [(upload.kind, upload.filename) for who, upload in world.fake.wecom.files if who == "wc-admin"]
    assert files[:-1] == [("image", name) for name in PICTURES]
    assert files[-1][0] == "file" and files[-1][1].endswith(".csv")
    texts = world.fake.wecom.texts_to("wc-admin")
    assert texts[0].startswith("📊") and f"[file] {files[-1][1]}" in texts


async def test_a_file_over_20_mb_on_wecom_is_sent_as_a_link(world) -> None:
    await _admin_on(world, "wecom", "wc-admin")
    world.fake.wecom.members.add("wc-admin")
    big = b"x" * (FILE_LIMIT + 1)
    with pytest.raises(WeChatApiError) as refused:  # the fake refuses what WeCom refuses
        await world.wecom.api.upload_media("file", "big.csv", "text/csv", big)
    assert refused.value.errcode == 40006
    async with world.chat.sessions() as s:
        row = OutboxMessage(platform="wecom", address="wc-admin", recipient_label="中心管理员",
                            person_id=world.chat.ids["中心管理员"], text="📄 全年工时",
                            created_at=world.chat.clock.now())
        s.add(row)
        await s.flush()
        await attach(s, row, kind="document", filename="工时.csv", mime="text/csv", data=big,
                     now=world.chat.clock.now())
        await s.commit()
    await world.settle()
    texts = world.fake.wecom.texts_to("wc-admin")
    assert texts[0] == "📄 全年工时" and "超过企业微信 20 MB 的上限" in texts[1]
    assert [f for f in world.fake.wecom.files if f[0] == "wc-admin"] == []
    got = await _open(world, re.search(r"http://\S+", texts[1]).group(0))
    assert got.content == big
