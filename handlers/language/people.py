"""How many volunteers a request asks for (需要几个人): 两个人, 三四个人, 来几个人, 俩人, 志愿者二十个.

A count is read only where it counts helpers: after a verb of asking (来, 要, 找, 得…), or with
a word for helpers (人, 志愿者, 小伙子, 技术员…). "三四个孩子", "四五十口子", "五百只鸡" and
"俺一个人" count other people or things. Ranges read as their top ("三四个" → 4), vague
groups as three ("来一帮人", "找几个"), and nothing is more than `MAX_PEOPLE`.
"""

from __future__ import annotations

import re

from handlers.language.textnorm import parse_number

__all__ = ["MAX_PEOPLE", "volunteers_needed"]

MAX_PEOPLE = 10
_VAGUE = 3  # "几个", "一帮": a few

_HELPERS = ("人手", "人", "志愿者", "小伙子", "小伙", "年轻人", "壮劳力", "劳力", "男的", "女的", "师傅",
            "技术员", "大学生", "老师", "帮手", "党员", "队员", "大夫", "医生", "护士", "律师", "电工",
            "兽医", "专家", "同志", "女志愿者", "男志愿者")
_HELPER = "|".join(sorted(_HELPERS, key=len, reverse=True))
_ASK = r"来|要|需要|需|找|派|请|叫|喊|招|缺|得有|得|再来|再要|再找|多来|出"
_COUNT = r"[0-9]{1,3}|[一二两三四五六七八九十百]{1,4}(?:来|多)?|好几|几|俩|仨"
_CLASSIFIER = r"个|位|名"
_GROUP = r"一帮|一伙|一群|一些"
# Counts that say "people" on their own, with no 个 or 人 after them.
_SELF_COUNTING = frozenset({"俩", "仨", "一帮", "一伙", "一群", "一些"})
# What may follow "找几个…" when no helper word does: a verb or the end of the phrase.
_AFTER_CLASSIFIER = re.compile(r"[会能来去就吧帮给一过的够行上下抬扛搬\s,.!?]|$")

_PATTERNS = (
    # 来俩人, 需要两个人, 找十来个志愿者, 能来两个技术员, 找几个会唱歌的, 来一帮人
    re.compile(rf"(?:{_ASK})\s*(?P<n>{_GROUP}|{_COUNT})\s*(?P<cl>{_CLASSIFIER})?\s*(?P<h>{_HELPER})?"),
    # 两个人吧, 三四个人就够, 一个就够
    re.compile(rf"(?P<n>{_COUNT})\s*(?P<cl>{_CLASSIFIER})\s*(?P<h>{_HELPER})?(?=\s*(?:就够|就行|就中|够了|吧|来|$|[\s,.]))"),
    # 志愿者二十个, 人手三个
    re.compile(rf"(?:{_HELPER})\s*(?P<n>{_COUNT})\s*(?P<cl>{_CLASSIFIER})"),
    # 俩人, 仨人
    re.compile(r"(?P<n>俩|仨)(?P<h>人)"),
)
# Words before a count that make it someone else's: "俺一个人", "她一个人住", "能坐五六十人".
_NOT_HELPERS_BEFORE = ("俺", "我", "她", "他", "自己", "坐", "住", "有", "了", "家")
# Words that take a count back: "不用俩人", "俩人不够".
_DENIED_BEFORE = ("不用", "不要", "用不了", "不需要", "用不着")
_DENIED_AFTER = ("不够", "不行", "太多", "用不了")


def _count(token: str) -> int | None:
    """The number of people a count word means: a range's top, a vague group's three."""
    token = token.strip()
    if token in ("一帮", "一伙", "一群", "一些", "几", "好几"):
        return _VAGUE
    if token in ("俩",):
        return 2
    if token == "仨":
        return 3
    token = token.rstrip("来多")  # "十来个", "二十多个": about that many
    if len(token) == 2 and all(c in "一两二三四五六七八九" for c in token) and token[0] != token[1]:
        # "三四个": the larger of two neighbours; "一两个": two.
        values = [parse_number(c) for c in token]
        return int(max(v for v in values if v is not None))
    value = parse_number(token)
    if value is None or value != int(value) or value < 1:
        return None
    return int(value)


def volunteers_needed(text: str) -> int | None:
    """How many volunteers normalised `text` asks for, 1–`MAX_PEOPLE`; None if it does not say."""
    found: list[int] = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            groups = m.groupdict()
            has_helper = bool(groups.get("h"))
            has_classifier = bool(groups.get("cl"))
            n_text = m.group("n")
            if not (has_helper or has_classifier or n_text in _SELF_COUNTING):
                continue
            if has_classifier and not has_helper and not _AFTER_CLASSIFIER.match(text, m.end()):
                continue  # "三四个孩子": counts children, not helpers
            before = text[max(0, m.start() - 3):m.start()]
            after = text[m.end():m.end() + 3].lstrip()
            if pattern is not _PATTERNS[0] and before.rstrip().endswith(_NOT_HELPERS_BEFORE):
                continue
            if before.rstrip().endswith(_DENIED_BEFORE) or after.startswith(_DENIED_AFTER):
                continue
            n = _count(n_text)
            if n is not None:
                found.append(n)
    return min(max(found), MAX_PEOPLE) if found else None
