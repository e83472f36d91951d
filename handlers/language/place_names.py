"""Village, community and town names in a request (地名): 杨家村, 黄土坎镇蓬莱社区, 喀左县大城子镇.

jieba splits names unpredictably (曹/家村, 黄土/坎/镇), so name-like words are glued into runs
and the longest prefix ending in a place suffix (村, 屯, 社区, 镇, 乡, 街道, 广场) is taken;
failing that, a lone region word (朝阳县, 大石桥). Generic words ending like a place ("农村",
"村里", "家乡") and where a load goes ("上三楼") are no names.
"""

from __future__ import annotations

import re

from handlers.language.lexicon import GENERIC_PLACES, PLACE_SUFFIXES, REGION_SUFFIXES
from handlers.language.nlp import Word

__all__ = ["extract_place"]

# jieba POS flags that can be part of a place name (nouns, names, abbreviations; "村" is "zg").
_NAME_FLAGS = frozenset({"n", "nr", "nr1", "nr2", "nrt", "nrfg", "ns", "nsf", "nt", "nz", "ng", "j", "zg"})
# A candidate ending like this is a generic word ("回家乡"), not a name.
_GENERIC_ENDINGS = tuple(sorted(GENERIC_PLACES - set(PLACE_SUFFIXES)))
_LOCATIVES = ("里", "头", "边", "上", "下", "内", "外", "口", "前", "后")
_CJK = re.compile(r"[\u4e00-\u9fff]+")
# Floors and numbers are never a region's name ("上三楼" was tagged as one).
_NOT_IN_REGION = re.compile(r"[0-9零一二两三四五六七八九十楼层号]")


def _is_name_part(word: str, flag: str, next_word: str, next_flag: str) -> bool:
    """Whether a jieba word can be part of a place name, given the word after it."""
    if not _CJK.fullmatch(word) or (word in GENERIC_PLACES and word not in PLACE_SUFFIXES):
        return False  # "农村", "村里" end a name; a bare "社区"/"村" continues the one before it
    if flag in _NAME_FLAGS:
        return True
    if flag in ("a", "b", "f") and len(word) == 1:
        return True  # jieba splits off a leading 大/小/新/上/东 (大/城子/镇, 上/河村)
    if flag == "s" and len(word) == 2 and not word.endswith(_LOCATIVES):
        return True  # 河沿, but not 村里/东头/路边
    if len(word) != 2:
        return False
    if flag == "m":  # 二道/沟村, 三道/岭村 — but not 很多/村
        return next_flag in _NAME_FLAGS and next_word not in PLACE_SUFFIXES
    # Names like 前进村, 胜利村, 红旗屯: a two-character word right before a bare suffix.
    return flag in ("v", "vn", "a") and next_word in PLACE_SUFFIXES


def extract_place(words: list[Word]) -> str | None:
    """A named place: name-like words ending in 村/屯/社区/镇/乡/街道/广场, else a region `ns` word."""
    runs: list[list[str]] = [[]]
    for i, (word, flag, _, _) in enumerate(words):
        next_word, next_flag = words[i + 1][:2] if i + 1 < len(words) else ("", "")
        if _is_name_part(word, flag, next_word, next_flag):
            runs[-1].append(word)
        elif runs[-1]:
            runs.append([])
    for run in runs:
        # Glue the run and keep the longest prefix that ends with a place suffix at a word boundary.
        text, candidate = "", None
        for word in run:
            text += word
            if text.endswith(PLACE_SUFFIXES):
                candidate = text
        if candidate and candidate not in GENERIC_PLACES and not candidate.endswith(_GENERIC_ENDINGS):
            return candidate
    for word, flag, _, _ in words:
        # jieba tags landforms ("河沟") as ns too, so a lone ns word must look like a region name.
        if (flag == "ns" and (len(word) >= 3 or word.endswith(REGION_SUFFIXES)) and word not in GENERIC_PLACES
                and not _NOT_IN_REGION.search(word)):
            return word
    return None
