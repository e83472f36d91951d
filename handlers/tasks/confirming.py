"""The draft conversation: ask what is unsure, take corrections, submit on 确认, drop on 不用了.

`present` shows the villager the next thing to answer: the category when the guess was weak
(buttons, likeliest first), a time that was already over (是/不是), or the draft to confirm.
`on_draft` reads the reply: a button, its number or its words; a correction ("不对 是礼拜天上午",
"电话是139…", "要两个人", "地址是建设街12号") amends the draft and shows it again; "不用了",
"算了", "取消" drop it. Anything else is a new message and goes on as usual (a new request
replaces the draft). Every category the villager chooses, and every draft confirmed, is kept
as a labelled example for the intake to learn from (docs/intake-language.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.texts import CANCEL_WORDS, CONFIRM_WORDS, as_typed, ref
from handlers.language.emergency import detect_emergency
from handlers.language.learning import current_model
from handlers.language.request_parser import ParsedRequest, parse_request
from handlers.tasks.drafts import (
    MORE,
    Draft,
    amend,
    draft_buttons,
    draft_from,
    draft_text,
    fill_from,
    order_of,
    pressed,
    time_question,
)
from handlers.language.lexicon import CATEGORIES
from handlers.tasks.ordering import confirm_order
from handlers.tasks.outcomes import Ordered
from handlers.tasks.smalltalk import is_small_talk
from handlers.tasks.texts import spoken_when, where_it_went
from storage.intake.examples import record_example

STATE = "order_confirm"
DRAFT_TTL = timedelta(hours=2)
# Words that drop a draft at any step (at the 确认 step also CANCEL_WORDS: 2, 不, no…).
STOP_WORDS = {"取消", "算了", "不用了", "不要了", "不需要了", "没事了", "不用麻烦了", "不麻烦了", "拉倒", "不弄了",
              "不整了", "算了吧", "那算了", "取消吧"}
# Answers to "改成明晚8点可以吗？".
YES = CONFIRM_WORDS | {"是", "行", "可以", "中", "嗯", "对", "好吧", "行吧"}
NO = {"不是", "不", "不行", "不对", "不用", "2", "no", "否", "不可以", "不中"}
# While the category is asked, only these send the draft with the guessed category.
SEND_AS_GUESSED = {"确认", "确定"}


async def read(ctx: Context, text: str) -> ParsedRequest:
    """Read a message with the learned model, at the region's time."""
    return parse_request(text, ctx.now.astimezone(ctx.tz), model=await current_model(ctx.session))


async def save(ctx: Context, draft: Draft) -> None:
    """Keep the draft in the conversation for the next message."""
    await ctx.state.set(ctx.state_key, {"awaiting": STATE, "draft": draft.to_state()}, DRAFT_TTL)


async def present(ctx: Context, draft: Draft, *, lead: str = "") -> None:
    """Ask what is still open — the category, then a time already over — or show the draft to confirm."""
    if draft.past and not draft.unsure:
        draft.ask = "time"
        text, buttons = time_question(draft, ctx.now, ctx.tz)
        text = f"{lead}\n{text}" if lead else text
    else:
        draft.ask = "category" if draft.unsure else None
        text, buttons = draft_text(draft, ctx.now, ctx.tz, lead=lead), draft_buttons(draft)
    await save(ctx, draft)
    ctx.reply(text, buttons)


async def submit(ctx: Context, draft: Draft) -> None:
    """Hand the confirmed draft to the order action, learn from it, and say where the task went."""
    await ctx.state.clear(ctx.state_key)
    match await confirm_order(ctx.act, order_of(draft)):
        case Refused(reason):
            ctx.reply(reason)
        case Ordered(task, placed):
            if draft.learnable and not draft.chosen:  # a chosen category was learned when chosen
                await record_example(ctx.session, text=draft.description, category=task.category,
                                     source="confirmed", now=ctx.now, guessed=draft.guessed)
            ctx.reply(f"已提交！您的任务号是 {ref(task.id)}。"
                      f"{where_it_went(task, placed.unit, placed.teams, placed.admins)}\n查看进度请发：我的")


async def drop(ctx: Context) -> None:
    """Forget the draft, kindly."""
    await ctx.state.clear(ctx.state_key)
    ctx.reply("好的，已取消。需要帮助时随时告诉我。")


async def on_draft(ctx: Context, text: str, state: dict[str, Any]) -> bool:
    """Answer a message while a draft is open; False when it is no answer to the draft (a new message)."""
    draft = Draft.from_state(state["draft"])
    word = text.strip().lower()
    if not word:
        if not ctx.message.media:
            return False
        draft.media = draft.media + [{"kind": m.kind, "ref": m.ref} for m in ctx.message.media]
        if draft.ask is None:
            await save(ctx, draft)
            ctx.reply(f"已附上（共 {len(draft.media)} 个附件）。请点「确认」或回复 1 提交。", draft_buttons(draft))
        else:
            await present(ctx, draft, lead=f"已附上（共 {len(draft.media)} 个附件）。")
        return True
    if draft.ask == "need":
        return await _need(ctx, text, draft)
    if await _button(ctx, text.strip(), word, draft):
        return True
    if word in STOP_WORDS:
        await drop(ctx)
        return True
    if detect_emergency(text) is not None:
        return False  # the intake answers it at once, draft or not
    parsed = await read(ctx, text)
    if is_small_talk(parsed, text) and parsed.action == "no":
        await drop(ctx)
        return True
    if is_small_talk(parsed, text) and parsed.action == "yes":  # "嗯呐", "中": a yes, which names no category
        yes = "好" if draft.ask == "category" else "确认"
        return await _button(ctx, yes, yes, draft)
    if parsed.kind == "correction":
        return await _correct(ctx, draft, parsed)
    return False


async def _button(ctx: Context, typed: str, word: str, draft: Draft) -> bool:
    """The answers the draft offered (its buttons, their numbers, 确认/取消); False for other words."""
    if draft.ask == "time":
        return await _time_answer(ctx, word, draft)
    answer = pressed(draft, typed)
    if draft.ask == "category":
        if answer in CATEGORIES:
            draft.settle_category(answer, chosen=True)
            if draft.learnable:
                await record_example(ctx.session, text=draft.description, category=answer, source="chosen",
                                     now=ctx.now, guessed=draft.guessed)
            await present(ctx, draft, lead=f"好的，类别：{answer}。")
            return True
        if answer in (MORE, "其他类别", "更多", "其他…", "其他..."):  # the label as typed, after normalising
            draft.expanded = True
            await present(ctx, draft, lead="所有的类别都在下面了：")
            return True
    answer = answer.strip().lower()
    if answer in CONFIRM_WORDS:
        if draft.ask == "category" and answer not in SEND_AS_GUESSED:
            # "好的" to "which kind?" chooses nothing: ask again rather than send a guess.
            await present(ctx, draft, lead="请点一下是哪一类帮助（或回复它前面的序号）：")
            return True
        if draft.ask == "category":  # "确认": send it as guessed (其他 goes to the village first)
            draft.settle_category(draft.category, chosen=False)
            if draft.past:
                await present(ctx, draft)
                return True
        await submit(ctx, draft)
        return True
    if answer in CANCEL_WORDS:
        await drop(ctx)
        return True
    return False


async def _time_answer(ctx: Context, word: str, draft: Draft) -> bool:
    """是: the proposed time instead of the one that is over; 不是: the time is left to agree."""
    if word in YES and draft.when_next:
        draft.when, draft.when_next, draft.past = draft.when_next, None, False
        when = draft.window
        assert when is not None
        await present(ctx, draft, lead=f"好的，时间改成{spoken_when(when[0], draft.precision, ctx.now, ctx.tz)}。")
        return True
    if word in NO:
        draft.when, draft.precision, draft.when_next, draft.past = None, None, None, False
        await present(ctx, draft, lead="好的，时间先待商定；什么时候方便，直接告诉我就行，例如「明天上午」。")
        return True
    return False


async def _correct(ctx: Context, draft: Draft, parsed: ParsedRequest) -> bool:
    """Amend the fields a correction names and show the draft again (a new need is read again)."""
    changed = amend(draft, parsed)
    if not changed:
        return False
    if "what" in parsed.corrections:
        draft.read_need(await read(ctx, str(parsed.corrections["what"])))
    await present(ctx, draft, lead=f"好的，已改{'、'.join(changed)}。")
    return True


async def _need(ctx: Context, text: str, draft: Draft) -> bool:
    """After a time or phone said alone: the next request takes them along; more such values are noted."""
    if text.strip().lower() in STOP_WORDS:
        await drop(ctx)
        return True
    if detect_emergency(text) is not None:
        return False
    parsed = await read(ctx, text)
    if parsed.kind == "correction":
        amend(draft, parsed)
        await save(ctx, draft)
        ctx.reply("好的，记下了。请问需要什么帮助？")
        return True
    if parsed.kind != "request":
        return False  # small talk or a volunteer's words: answered as usual, the values wait
    new = draft_from(parsed, resident_id=draft.resident_id, description=as_typed(ctx.message.text, text),
                     unit_name=draft.unit_name, media=[{"kind": m.kind, "ref": m.ref} for m in ctx.message.media],
                     for_name=draft.for_name, new_resident=draft.new_resident)
    fill_from(new, draft)
    await present(ctx, new)
    return True
