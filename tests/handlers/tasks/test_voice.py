"""Voice (issue 11): recognised words are the request; a voice without words asks to be called back."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry
from tests.handlers.tasks.conversation import buttons_to, draft_of, examples, tasks
from tests.handlers.tasks.voices import send_media


async def test_recognised_words_go_through_the_same_intake_and_the_voice_stays_on_the_task(chat) -> None:
    out = await send_media(chat, "王大娘", text="俺家住3号楼 明儿后晌想请人帮俺家老头子理个发", ref="wechat:V1")
    text = chat.last_to("王大娘", out)
    assert "类别：助老助残" in text and "时间：11月29日（明天）下午" in text and "附件：1 个" in text
    await chat.send("王大娘", "1")
    [task] = await tasks(chat)
    assert task.media == [{"kind": "voice", "ref": "wechat:V1"}]
    assert task.description == "俺家住3号楼 明儿后晌想请人帮俺家老头子理个发"


async def test_recognised_small_talk_is_no_order(chat) -> None:
    out = await send_media(chat, "王大娘", text="谢谢你们啊")
    assert chat.last_to("王大娘", out).startswith("不客气")
    assert await draft_of(chat, "王大娘") is None


async def test_a_voice_without_words_is_a_voice_request_that_asks_the_category(chat) -> None:
    out = await send_media(chat, "王大娘")
    text = chat.last_to("王大娘", out)
    assert text.startswith("收到您的语音。我还听不懂语音，已请蓬莱社区的站长蓬莱站长给您回电话。")
    assert "内容：（语音/图片）" not in text and "内容：语音需求" in text
    assert "您要的是哪类帮助？" in text
    assert buttons_to(chat, "王大娘", out)[-3:] == ["其他", "确认", "取消"]
    told = chat.last_to("蓬莱站长", out)
    assert "王大娘（蓬莱社区新时代文明实践站，电话：13900000001）发来一条语音需求" in told
    out = await chat.send("王大娘", "助老助残")  # the button's text
    assert "类别：助老助残" in chat.last_to("王大娘", out)
    await chat.send("王大娘", "确认")
    [task] = await tasks(chat)
    assert (task.category, task.description) == ("助老助残", "语音需求")
    assert task.media == [{"kind": "voice", "ref": "tg:voice-1"}]
    assert await examples(chat) == []  # a placeholder teaches the classifier nothing
    async with chat.sessions() as s:
        audit = (await s.execute(select(AuditEntry).where(AuditEntry.action == "call_back"))).scalar_one()
    assert audit.target_id == chat.ids["王大娘"]


async def test_a_voice_from_someone_unregistered_asks_for_the_village(chat) -> None:
    out = await send_media(chat, "新来的")
    assert "请先告诉我您住在哪个村或社区" in chat.last_to("新来的", out)
