"""Small talk (闲聊): a greeting, thanks, a yes or a no is answered briefly, never drafted as an order.

docs/tasks.md: not every message is a request. The parser tells small talk from a request
(`ParsedRequest.kind`); this answers it in a line or two, tells someone not yet registered how
to start, and reminds a villager whose draft is still open that it waits for them.
"""

from __future__ import annotations

from handlers.core.context import Context
from handlers.language.request_parser import ParsedRequest

EXAMPLE = "明天上午想请人来帮忙修水管"
ANSWERS = {
    "greeting": "您好！我是新风志愿服务的小助手。有什么需要帮忙的，直接告诉我就行，例如：「{example}」。",
    "thanks": "不客气！能帮上忙就好，有需要随时找我。",
    "yes": "好的。有什么需要帮忙的，随时告诉我。",
    "no": "好的，那就先不麻烦了。需要帮助时随时告诉我。",
    "chat": ("我是新风志愿服务的小助手，能帮您找志愿者上门帮忙、报名活动、查志愿时长。"
             "有什么需要直接说就行，例如：「{example}」；发「帮助」看看我都能做什么。"),
}
EMPTY = "您好！有什么需要帮忙的，用文字或语音告诉我就行，例如：「{example}」。"


def is_small_talk(parsed: ParsedRequest, text: str) -> bool:
    """Whether to answer the message as small talk: as the parser read it, unless it names what to cancel.

    The parser reads 取消 as "no thanks"; "取消活动室明天的预约" names something to be done — a request.
    """
    if parsed.kind != "small_talk":
        return False
    return not (parsed.action == "no" and text.strip().startswith("取消") and len(text.strip()) > 4)


async def answer_small_talk(ctx: Context, action: str | None) -> None:
    """Answer small talk in a line; mention registration or the draft still waiting when it applies."""
    text = ANSWERS.get(action or "chat", ANSWERS["chat"]).format(example=EXAMPLE)
    ctx.reply(await _with_context(ctx, text))


async def answer_empty(ctx: Context) -> None:
    """Answer a message with nothing to read (a sticker, an empty text) politely."""
    ctx.reply(await _with_context(ctx, EMPTY.format(example=EXAMPLE)))


async def _with_context(ctx: Context, text: str) -> str:
    """The answer, and what the person may want to do next: register, or finish the draft they left."""
    pending = await ctx.state.get(ctx.state_key)
    if pending and pending.get("awaiting") == "order_confirm":
        return text + "\n（您刚才说的需求还没提交，请按上一条消息里的按钮回答；不要了请发「取消」。）"
    if ctx.person.org_unit_id is None and not ctx.person.is_volunteer:
        return text + "\n第一次用的话，请先告诉我您住在哪个村或社区，发送：注册 村名"
    return text
