"""Rendering for Telegram (escaping, splitting, keyboards) and reading its updates, without a server."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup, Update

from bot.channels.telegram.inbound import Migrated, Received, translate
from bot.channels.telegram.render import (
    callback_answer,
    render,
    split_text,
    to_html,
    utf16_len,
)
from handlers.core.messages import Button, OutboundMessage

USER = {"id": 42, "is_bot": False, "first_name": "韩", "last_name": "冬梅"}
PRIVATE = {"id": 42, "type": "private", "first_name": "韩"}
GROUP = {"id": -100123, "type": "supergroup", "title": "蓬莱社区志愿服务队"}


def out(text: str, buttons: list[Button] | None = None, kind: str = "reply") -> OutboundMessage:
    return OutboundMessage(platform="telegram", address="42", text=text, buttons=buttons or [], kind=kind)


def update(body: dict[str, Any], update_id: int = 7) -> Update:
    return Update.de_json({"update_id": update_id, **body}, Bot("1:x"))


def message(**fields: Any) -> dict[str, Any]:
    return {"message": {"message_id": 3, "date": 0, "chat": PRIVATE, "from": USER, **fields}}


class TestRender:
    def test_user_text_is_escaped_and_cards_get_a_bold_title(self) -> None:
        r = render(out("新任务 #1\n内容：<b>急</b> & 快", [Button("接单", "接单 #1")]), private=False)
        assert r.parts == ["<b>新任务 #1</b>\n内容：&lt;b&gt;急&lt;/b&gt; &amp; 快"]
        assert isinstance(r.markup, InlineKeyboardMarkup)
        assert r.markup.inline_keyboard[0][0].callback_data == "接单 #1"

    def test_plain_replies_are_escaped_but_not_decorated(self) -> None:
        assert render(out("a<b>\nc"), private=True).parts == ["a&lt;b&gt;\nc"]

    def test_long_text_splits_at_line_breaks_and_buttons_ride_on_the_last_part(self) -> None:
        text = "\n".join(f"第{i}行：" + "字" * 95 for i in range(100))  # ~10,000 characters
        r = render(out(text, [Button("完成", "完成 #1")]), private=True)
        assert len(r.plain) == 3 and all(utf16_len(p) <= 4096 for p in r.plain)
        assert "\n".join(r.plain) == text  # nothing lost, nothing added
        assert all(p.startswith("第") for p in r.plain)

    def test_split_counts_utf16_units_and_never_cuts_a_character(self) -> None:
        parts = split_text("🙂" * 3000)  # each emoji is two UTF-16 units
        assert [utf16_len(p) for p in parts] == [4096, 1904]
        assert "".join(parts) == "🙂" * 3000

    def test_escaping_never_pushes_a_part_over_the_limit(self) -> None:
        r = render(out("&" * 5000), private=True)
        assert [len(p) for p in r.plain] == [4096, 904]  # counted before escaping, as Telegram does

    def test_commands_too_long_for_callback_data_are_spelled_out(self) -> None:
        long = "报名 #12 " + "很" * 30  # more than 64 bytes of UTF-8
        r = render(out("请选择", [Button("短", "确认"), Button("长", long)]), private=True)
        assert isinstance(r.markup, InlineKeyboardMarkup)
        assert [b.text for row in r.markup.inline_keyboard for b in row] == ["短"]
        assert f"· 长：发送「{long}」" in r.plain[0]

    def test_contact_button_is_a_contact_request_in_private_and_text_in_groups(self) -> None:
        r = render(out("分享手机号", [Button("📱 分享我的手机号", "/contact")]), private=True)
        assert isinstance(r.markup, ReplyKeyboardMarkup)
        assert r.markup.keyboard[0][0].request_contact is True
        r = render(out("分享手机号", [Button("📱 分享我的手机号", "/contact")]), private=False)
        assert r.markup is None and "发送「/contact」" in r.plain[0]

    def test_star_ratings_fit_in_rows(self) -> None:
        stars = [Button("★" * n, f"评价 #1 {n}") for n in (5, 4, 3, 2, 1)]
        r = render(out("请打分", stars), private=True)
        assert [[b.text for b in row] for row in r.markup.inline_keyboard] == [["★★★★★", "★★★★"], ["★★★", "★★", "★"]]

    def test_callback_answers_are_cut_to_200(self) -> None:
        assert callback_answer("好" * 300) == "好" * 199 + "…"
        assert callback_answer(" ok ") == "ok"

    def test_to_html(self) -> None:
        assert to_html("一行", bold_first_line=True) == "一行"
        assert to_html("<a>\nb", bold_first_line=True) == "<b>&lt;a&gt;</b>\nb"


class TestUpdates:
    def test_private_text(self) -> None:
        got = translate(update(message(text="我的")))
        assert isinstance(got, Received) and got.callback_query_id is None
        m = got.message
        assert (m.platform, m.user_id, m.chat_id, m.chat_type, m.text, m.message_id) == (
            "telegram", "42", "42", "private", "我的", "7")
        assert m.user_name == "韩 冬梅"

    def test_group_command(self) -> None:
        got = translate(update(message(text="/accept@xinfeng_bot 1", chat=GROUP)))
        assert got.message.chat_type == "group" and got.message.chat_id == "-100123" and got.message.user_id == "42"

    def test_button_press(self) -> None:
        body = {"callback_query": {"id": "cq1", "from": USER, "chat_instance": "x", "data": "接单 #1",
                                   "message": {"message_id": 9, "date": 0, "chat": GROUP, "text": "卡片"}}}
        got = translate(update(body))
        assert got.callback_query_id == "cq1"
        m = got.message
        assert m.is_button and m.text == "接单 #1" and m.chat_id == "-100123" and m.reply_to_message_id == "9"

    @pytest.mark.parametrize("owner, verified", [(42, "+8613900000018"), (43, None), (None, None)])
    def test_only_the_senders_own_contact_is_verified(self, owner: int | None, verified: str | None) -> None:
        contact: dict[str, Any] = {"phone_number": "+8613900000018", "first_name": "韩"}
        if owner is not None:
            contact["user_id"] = owner
        got = translate(update(message(contact=contact)))
        assert got.message.text == "/contact" and got.message.verified_phone == verified
        assert got.message.media[0].kind == "contact"

    def test_photo_with_caption_and_voice(self) -> None:
        photo = [{"file_id": "small", "file_unique_id": "a", "width": 1, "height": 1},
                 {"file_id": "large", "file_unique_id": "b", "width": 9, "height": 9}]
        got = translate(update(message(photo=photo, caption="草莓叶子")))
        assert got.message.text == "草莓叶子" and [(x.kind, x.ref) for x in got.message.media] == [("photo", "large")]
        voice = {"file_id": "v1", "file_unique_id": "v", "duration": 3}
        got = translate(update(message(voice=voice)))
        assert got.message.text == "" and got.message.media[0].kind == "voice"

    def test_nothing_to_handle(self) -> None:
        joined = message(new_chat_members=[USER], chat=GROUP)
        channel_post = {"channel_post": {"message_id": 1, "date": 0, "chat": {"id": -1009, "type": "channel"}, "text": "x"}}
        edited = {"edited_message": message(text="改")["message"]}
        for body in (joined, channel_post, edited):
            assert translate(update(body)) is None

    def test_group_migration(self) -> None:
        got = translate(update(message(chat={"id": -5, "type": "group", "title": "t"}, migrate_to_chat_id=-1005)))
        assert got == Migrated("-5", "-1005")
