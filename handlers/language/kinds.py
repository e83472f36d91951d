"""What kind of message it is (消息类别): a request, small talk, a volunteer's task update, or a correction.

Not every message to the bot is an order. Greetings, thanks, yes and no, "不用了" and "算了" are
small talk; "干完了", "去不了了", "到了" are a volunteer's words about their own task; "不对 是礼拜天上
午", "电话打错了 是139…" correct a draft. What remains, and anything that asks for help, is a
request. Each reading also names the act: for small talk greeting / thanks / yes / no / chat,
for a task update complete / release / help / delay / report / arrived / on_way / accept, and
signup (报名, 算我一个: an activity, not an order).
The caller knows more (is a draft open? does this volunteer hold a task?) and decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["KINDS", "Found", "Reading", "read_kind"]

KINDS = ("request", "small_talk", "task_update", "correction")

_SMALL_TALK: dict[str, tuple[str, ...]] = {
    "greeting": ("你好", "您好", "你们好", "大家好", "在吗", "在不在", "在么", "早上好", "早安", "上午好", "中午好",
                 "下午好", "晚上好", "晚安", "哈喽", "嗨", "hello", "hi", "吃了没", "吃了吗", "吃饭没", "吃饭了吗",
                 "老妹儿", "忙啥呢", "喂"),
    "thanks": ("谢谢", "谢了", "多谢", "感谢", "辛苦了", "辛苦", "点赞", "点个赞", "太好了", "好人", "麻烦你们了",
               "费心了", "👍", "🙏", "❤", "💐", "🌹"),
    "no": ("不用了", "不用麻烦", "不需要了", "不要了", "算了", "拉倒", "不整了", "不弄了", "别管了", "别管它",
           "没事了", "没啥事", "已经解决了", "解决了", "发错了", "不麻烦了", "取消"),
    "yes": ("好的", "好嘞", "好滴", "好吧", "好", "行吧", "行", "中", "嗯呐", "嗯嗯", "嗯", "对的", "对", "是的",
            "没错", "可以", "知道了", "明白了", "晓得了", "收到", "妥了", "妥", "确认", "确定", "ok", "那行",
            "就这么地", "就这样", "那就这样", "等信儿", "等着", "等你们"),
    "chat": ("冷不冷", "冷", "冻手", "热", "下雪", "下不下雪", "下雨", "降温", "刮风", "大风", "天气", "天儿", "气温",
             "暖和", "要钱", "收费", "免费", "几点下班", "几点上班", "下班", "上班", "哪个单位", "谁办的", "干什么的",
             "能干啥", "能干嘛", "都干啥", "干啥的", "能做啥", "能做什么",
             "真人", "机器人", "机器", "你是谁", "怎么用", "咋用", "问问", "等会", "等一会", "稍等", "找找", "哈哈",
             "呵呵", "嘿嘿", "出门"),
}
# Words that carry nothing once the small talk is taken out.
_FILLER = ("俺们", "我们", "你们", "咱们", "俺", "我", "你", "您", "咱", "他", "她", "这个", "那个", "就是", "刚才",
           "已经", "还", "也", "都", "真", "挺", "太", "那", "这", "就", "先", "再", "给", "啊", "呀", "吧", "呢",
           "哈", "嘛", "哦", "噢", "了", "的", "啦", "么", "哟", "呗", "吗", "同志", "志愿者", "外头", "别",
           "今年", "今儿个", "今天", "明天", "冬天", "咋", "这么", "老", "贼", "听说", "要", "是", "还是", "不",
           "一下", "电话号", "电话", "上回", "那就")
_SMALL_WORDS = sorted({w for words in _SMALL_TALK.values() for w in words} | set(_FILLER), key=len, reverse=True)
_ACT_OF = {w: act for act, words in _SMALL_TALK.items() for w in words}
_SYMBOLS = re.compile(r"[\W_\d]+", re.UNICODE)

# Asking for help: what makes a message a request whatever else it says.
_NEEDS = re.compile(
    r"想(?!不|起来)|需要|找人|找个|找(?:几|一|两|俩|仨|三|\d)|请人|请个|来个|来人|来俩|来几|来一|派人|派个|"
    r"帮忙|帮着|帮俺|帮我|给看|给瞅|瞅瞅|能不能|能否|可不可以|咋整|咋办|怎么办|咋弄|咋改|怎么改|咋治|咋要|咋分|"
    r"咋交|咋领|咋申请|咋回事|谁会|谁能|谁有|有没有|"
    r"求助|救命|快来|来人|上门|过来看")

_TASK_ACTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("complete", re.compile(
        r"(?:干|弄|整|修|扫|卸|理|讲|买|送|搬|拉|清|收拾|办|做|忙|搞|装|换|剪|洗|砍|劈|挑|填|码|铲|掏|通|教|陪|看)"
        r"(?:完|好)\S{0,2}了|完事|完成|搞定|办妥|(?:买|送|拉|捎)(?:回来|到)了|送到|活干完|结束了")),
    ("release", re.compile(r"去不了|来不了|干不了了|放弃|不去了|去不成|替俺|替我|替一下|谁能替|换个人|换人")),
    ("help", re.compile(r"整不了|弄不了|干不过来|得再来|再来一个|再来个|人手不够|不够人")),
    ("delay", re.compile(r"晚点到|晚点去|得晚点|晚到|改天去|改\S{0,3}去|接着干|弄不完|干不完|(?:干|弄|修)了一半|陷")),
    ("report", re.compile(r"敲半天|没人开|没人应|打不通他|联系不上他|找不着他|找不到他|他家没人|确实是|告诉他们|告诉她|先撤")),
    ("arrived", re.compile(r"到了|到地方|到门口|到齐|已经到|正在修|正在干|开始干|干着呢")),
    ("on_way", re.compile(r"在(?:道|路|半道)上(?:了|呢)|出发了|马上到|快到了|分钟到|这就去|这就过去|准时到|按时到|正往|往那边")),
    ("accept", re.compile(r"俺接了|我接了|接了|我去吧|俺去吧|我来吧|俺来吧|交给我|包在")),
    ("signup", re.compile(r"报名|算我一个|算俺一个|加我一个|我也去|俺也去|我参加|俺参加")),
)
# Words that tie a message to a task the sender holds, whatever else it says.
_OWN_TASK = re.compile(r"#\s*\d+|这活|那活|那个活|这单|那单|替俺|替我|谁能替")

_CORRECTION = re.compile(
    r"(?<!是)不是\S{0,12}\s*是|是\S{1,12}\s+不是|^\s*不对|不对[\s,]*(?:是|应该)|(?:写|打|说|弄|搞|记)错|说成|改成|"
    r"改为|改到|改一下|改下|应该是|更正|纠正|补充|再加|加个|换成|刚才说|地址是|电话是|号码是|时间是|人数|就够|不够|"
    r"不用(?:俩|两|仨|三|\d)")


@dataclass(frozen=True)
class Found:
    """The values a message carries besides its words, as the parser found them."""

    time: bool = False
    phone: bool = False
    address: bool = False
    place: bool = False
    people: bool = False
    evidence: float = 0.0  # the best lexicon score of a service category (其他 not counted)
    values_length: int = 0  # characters taken by the time, phone, address and people found


@dataclass(frozen=True)
class Reading:
    """A message's kind and, for small talk and task updates, its act."""

    kind: str
    action: str | None = None


def _small_talk_act(text: str) -> tuple[str | None, str]:
    """The first small-talk act the text contains, and what is left when its small talk is removed."""
    rest = text
    acts: list[str] = []
    for w in _SMALL_WORDS:
        if w in rest:
            if w in _ACT_OF:
                acts.append(_ACT_OF[w])
            rest = rest.replace(w, " ")
    first = min(acts, key=lambda a: ("no", "thanks", "greeting", "yes", "chat").index(a)) if acts else None
    return first, _SYMBOLS.sub("", rest)


def read_kind(text: str, found: Found) -> Reading:
    """Tell what lower-cased normalised `text` is, given the values found in it."""
    act, rest = _small_talk_act(text)
    if not _SYMBOLS.sub("", text):
        return Reading("small_talk", act or "chat")  # emoji, punctuation, nothing
    needs = _NEEDS.search(text) is not None
    task_act = next((name for name, pattern in _TASK_ACTS if pattern.search(text)), None)
    if task_act and _OWN_TASK.search(text):
        return Reading("task_update", task_act)
    if act is not None and (len(rest) <= 2 or act in ("no", "thanks") and not needs):
        return Reading("small_talk", act)
    if act == "chat" and not needs and found.evidence < 3 and not task_act:
        return Reading("small_talk", act)
    if not needs and act != "no" and _CORRECTION.search(text):
        return Reading("correction")
    if task_act and (not needs or task_act in ("help", "release") and found.evidence < 3):
        return Reading("task_update", task_act)  # "得再来一个" asks for help with a task, not for a service
    has_value = found.time or found.phone or found.address or found.people
    if has_value and not needs and found.evidence < 3 and len(text) - found.values_length <= 6:
        return Reading("correction")  # "明早8点半", "13912345678": a value alone amends the draft
    return Reading("request")
