"""邀请码 on Telegram: the captain gets the t.me deep link and its QR code; following it joins the team."""

from __future__ import annotations

import os
from pathlib import Path

from bot.channels.deeplinks import draw_deep_links
from handlers.core.messages import Attachment, OutboundMessage
from storage.messaging.deeplinks import DEEP_LINK_QR
from tests.bot.channels.qr_reading import encodes

LINK = "https://t.me/xinfeng_test_bot?start=join_KJ2026"
# Where the drawn code is left for a person to look at (the report names it).
SAVED = Path(os.environ.get("XINFENG_TEST_QR_DIR", "/tmp")) / "xinfeng-invite-telegram.png"


async def test_a_captains_invite_is_the_bots_link_and_its_qr_code(tg) -> None:
    await tg.channel.menus.stop()
    await tg.link("陈刚")
    captain = tg.user_id("陈刚")
    sent = await tg.say("陈刚", "邀请码")
    assert [m.kind for m in sent] == ["text", "photo"]
    assert sent[0].text.endswith(f"加入 KJ2026 姓名\n扫下面的二维码也可以。\n链接：{LINK}")
    assert "「科技服务队」的邀请码：KJ2026" in sent[0].text
    kind, filename, png = tg.fake.files[captain][-1]
    assert (kind, filename) == ("photo", "join_KJ2026.png") and png[:8] == b"\x89PNG\r\n\x1a\n"
    assert encodes(png, LINK)
    SAVED.write_bytes(png)

    # Whoever follows the link (Telegram sends "/start join_KJ2026") is in the team at once.
    newcomer = tg.user_id("新队员小李")
    await tg.say("新队员小李", "/start join_KJ2026")
    assert any("欢迎 新队员小李 加入「科技服务队」" in m.text for m in tg.fake.sent_to(newcomer))
    assert "新队员 新队员小李 加入了「科技服务队」。" == tg.last_to("陈刚").text  # and the captain hears of it


async def test_without_the_bots_name_the_words_to_type_are_the_whole_answer() -> None:
    request = Attachment(kind=DEEP_LINK_QR, filename="join_KJ2026.png", mime="image/png")  # type: ignore[arg-type]
    message = OutboundMessage(platform="telegram", address="1", text="加入 KJ2026 姓名", attachments=[request])
    drawn = await draw_deep_links(message, lambda payload: None, show_links=True)
    assert (drawn.text, drawn.attachments) == ("加入 KJ2026 姓名", [])
    other = Attachment(kind="photo", filename="chart.png", mime="image/png", data=b"png")
    untouched = OutboundMessage(platform="telegram", address="1", text="图表", attachments=[other])
    assert await draw_deep_links(untouched, lambda payload: "never", show_links=True) is untouched
