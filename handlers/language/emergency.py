"""Emergencies (紧急情况): words for falls, fire, bleeding, unconsciousness, breathing, gas, flooding…

docs/tasks.md: an emergency is answered first with the safety line (120 / 119 / 110), then
offered at once. Precision matters as much as recall — "去年摔过一跤 想找人看看腿" is a
request for a check-up, not an ambulance — so a word counts only inside a clause that does
not put it in the past ("摔过", "去年", "前阵子"), in a fear or a plan ("怕", "防", "讲讲"),
and phrases that merely contain an alarm word ("车打不着火", "摔门", "量血压") are read as
what they are. Each kind names the number to call; a message may have several kinds.

The lexicon is small and general on purpose: words people use in any county, not phrases
from one corpus. tests/handlers/language/test_emergency.py measures it on the labelled
villager messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.language.textnorm import normalize

__all__ = ["KINDS", "PAIRS", "Emergency", "detect_emergency"]

# kind → (the number to call, what it is called, the words that raise it)
KINDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "medical": ("120", "急救", (
        # falls, and people who cannot get up
        "摔倒", "跌倒", "滑倒", "绊倒", "摔了一跤", "摔了一下", "摔了个跟头", "摔下来", "掉下来了", "摔着了",
        "起不来", "爬不起来", "站不起来", "扶不起来", "拽不起来", "动不了了", "出溜到地上",
        # unconscious, not answering
        "晕过去", "晕倒", "昏过去", "昏倒", "昏迷", "休克", "不省人事", "叫不醒", "喊不醒", "人也不吱声",
        "人不吱声了", "喊也不答应", "叫也不答应", "喊不答应", "没意识", "没心跳",
        # breathing, stroke
        "喘不上气", "喘不过气", "上不来气", "不喘气", "没气了", "没呼吸", "呼吸困难", "脸都紫了",
        "嘴歪", "半拉身子", "半边身子", "话也说不清", "说不出话了",
        # bleeding, wounds, burns, electricity, traffic
        "血止不住", "止不住血", "流血不止", "血哗哗", "淌血", "流了好多血", "满脸是血", "吐血",
        "烫伤了", "烧伤了", "触电", "让电打了", "被电打了", "车祸", "被车撞了", "让车撞了",
        # poisoning
        "中毒了", "煤烟中毒", "煤气中毒", "一氧化碳", "喝了农药", "喝农药", "喝药了", "耗子药", "老鼠药",
        "敌敌畏", "百草枯", "误食",
        # seizures, childbirth, drowning
        "抽抽了", "抽过去", "抽搐", "口吐白沫", "见红了", "羊水破了", "要生了", "溺水", "掉水里",
        "掉河里", "掉井里", "掉冰窟窿", "落水", "淹着了",
        "快不行了", "救命", "救护车",
    )),
    "fire": ("119", "火警", (
        "着火", "起火", "失火", "火灾", "着起来了", "烧起来了", "烧着了", "冒黑烟", "冒浓烟", "冒火星",
        "电线打火", "打火了", "垛着了", "房子着了", "着了火", "点着了", "好大的火", "火光",
    )),
    "gas": ("119", "火警", (
        "煤气味", "燃气味", "天然气味", "液化气味", "煤气泄漏", "燃气泄漏", "罐子漏气", "气罐漏", "液化气漏",
        "煤气漏", "燃气漏",
    )),
    "flood": ("119", "抢险", (
        "管子爆了", "水管爆了", "管道爆了", "爆管", "跑水了", "屋里进水", "屋里全是水", "水都没脚", "水没过",
        "被淹了", "屋里淹了", "家里淹了", "屋子淹了", "发大水", "决口",
    )),
    "police": ("110", "报警", (
        "要动手", "动手打人", "打起来了", "打人了", "动刀", "持刀", "拿刀砍", "砍人", "抢劫", "撬门",
        "不想活了", "寻死", "轻生", "要跳河", "要跳楼", "上吊",
        "敲门也不应", "敲门不应", "敲门没人应", "没见他开门", "没见她开门", "好几天没见着人",
    )),
}
# Two words that raise an alarm only together, anywhere in the message: a person missing (gone
# *and* searched for), chest pain that is more than an ache.
PAIRS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("police", ("没回来", "没回家", "人不见了", "走丢了", "走失"), ("找不着", "找不到", "找了一大圈", "到处找")),
    ("medical", ("胸口疼", "心口疼", "胸口痛", "胸口闷"), ("冒汗", "喘", "憋", "厉害", "受不了", "煞白")),
)

# Phrases that contain an alarm word but raise no alarm; blanked out before looking.
_HARMLESS = (
    "打不着火", "点不着火", "着火点", "摔东西", "摔门", "摔碗", "摔跟头", "放放气", "放气", "血压", "血糖",
    "烧纸", "烧炕", "急救培训", "急救知识", "消防演练", "灭火器", "报警器", "防火", "煤气费", "燃气费",
    "救命钱", "救命稻草", "救命之恩", "落水管", "起不来床", "炉子点着", "火点着", "炉子烧着", "烟筒冒黑烟",
    "烟囱冒黑烟", "皮掉下来", "瓦掉下来", "牙掉下来", "冰溜子掉下来",
)
# Words that, earlier in the same clause, make what follows a fear, a plan, a lesson or the past.
_NOT_NOW_BEFORE = (
    "怕", "担心", "防", "预防", "避免", "讲讲", "讲一讲", "宣传", "培训", "演练", "万一", "会不会",
    "如果", "要是", "以前", "去年", "前年", "前阵子", "前些日子", "上回", "上次", "曾经", "年年", "咋防",
    "怎么防", "老有人", "总有人", "经常", "容易",
)
# A message about an animal and no person is the vet's business (a request, not 120).
_ANIMALS = ("猪", "牛", "羊", "鸡", "鸭", "鹅", "狗", "猫", "鱼", "兔", "马", "驴", "崽")
_PEOPLE = ("人", "爹", "妈", "爸", "娘", "老伴", "孩子", "老头", "老太", "爷", "奶", "媳妇", "儿", "闺女", "他", "她",
           "掌柜", "兄弟", "姐", "哥", "弟", "妹")
# Words right after an alarm word that put it in the past ("摔过", "着过").
_PAST_AFTER = ("过",)
# A message that says it is over ("现在好了", "没事了") is not an emergency, whatever it recalls.
_OVER = ("现在好了", "现在没事", "已经好了", "已经没事", "早就好了", "没啥事了")
# Clauses end at punctuation and at the spaces villagers use for commas.
_CLAUSE = re.compile(r"[，。！？；、,.!?;\s~…]+")


@dataclass(frozen=True)
class Emergency:
    """An emergency read from a message: its kinds (most pressing first) and the words that said so."""

    kinds: tuple[str, ...]
    words: tuple[str, ...]

    @property
    def numbers(self) -> list[tuple[str, str]]:
        """The numbers to call, (number, what it is), each once, in the kinds' order."""
        seen: dict[str, str] = {}
        for kind in self.kinds:
            number, name, _ = KINDS[kind]
            seen.setdefault(number, name)
        return list(seen.items())


def _alarms_in(clause: str, animals_only: bool) -> list[tuple[str, str]]:
    """(kind, word) of every alarm word in one clause that is about now (`animals_only`: no person in the message)."""
    for phrase in _HARMLESS:
        clause = clause.replace(phrase, "　" * len(phrase))
    found = []
    for kind, (_, _, words) in KINDS.items():
        for word in words:
            start = clause.find(word)
            while start != -1:
                before, after = clause[:start], clause[start + len(word):]
                guarded = any(w in before for w in _NOT_NOW_BEFORE) or after.startswith(_PAST_AFTER)
                if kind == "medical" and animals_only:
                    guarded = True
                if not guarded:
                    found.append((kind, word))
                    break
                start = clause.find(word, start + 1)
    return found


def detect_emergency(text: str) -> Emergency | None:
    """The emergency a message describes, or None (most messages, and anything in the past)."""
    folded = normalize(text).lower()
    if not folded or any(w in folded for w in _OVER):
        return None
    animals_only = any(a in folded for a in _ANIMALS) and not any(p in folded for p in _PEOPLE)
    hits = [hit for clause in _CLAUSE.split(folded) if clause for hit in _alarms_in(clause, animals_only)]
    for kind, firsts, seconds in PAIRS:
        first = next((w for w in firsts if w in folded), None)
        second = next((w for w in seconds if w in folded), None)
        if first and second:
            hits.append((kind, first))
    if not hits:
        return None
    # Most pressing first: a person hurt before a house on fire before the rest.
    order = list(KINDS)
    kinds = tuple(sorted({k for k, _ in hits}, key=order.index))
    return Emergency(kinds=kinds, words=tuple(dict.fromkeys(w for _, w in hits)))
