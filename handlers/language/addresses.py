"""House numbers inside a message (门牌): 3号楼2单元501, 建设街12号, 5号院, 二组老刘家, 一楼东户.

They matter twice: the numbers in them are never dates or clock times ("3号楼" is not the 3rd),
and they are the part of a villager's address below the village, which the draft keeps as
written. A pure function over normalised text (NFKC, so digits are ASCII).
"""

from __future__ import annotations

import re

__all__ = ["address_spans", "extract_address", "mask"]

_NUM = r"(?:\d{1,5}|[零〇一二两三四五六七八九十百]{1,4})"
# One piece of a house address. Order matters: the longer endings first ("号楼" before "号").
_PIECE = (
    rf"{_NUM}\s*(?:号楼|号院|号门|号房|栋|幢|单元|号|楼|室)(?:东户|西户|中户|东|西)?"
    r"|\d{1,3}\s*层"
    rf"|{_NUM}\s*(?:组|队)(?![织长员])"
    r"|(?<=单元)\s*\d{2,4}(?:室)?"
    r"|(?<=[楼层])\s*\d{3,4}(?:室)?"
)
_PIECES = re.compile(rf"(?:{_PIECE})(?:\s*(?:{_PIECE}))*")
# A street or compound the number belongs to: "建设街12号", "光明路18号", "幸福小区8号楼".
_STREET = re.compile(r"[\u4e00-\u9fff]{1,5}?(?:大街|街|路|巷|胡同|小区|家属院|里|弄)$")
# Where a street's own name starts: after the district, community, town or village before it.
_BEFORE_STREET = ("街道", "社区", "镇", "乡", "村", "屯", "市", "县", "区", "的", "在", "住", "是", "到", "去", "来")
# "上三楼", "抬下楼": a floor after a verb of moving says where the load goes, not where anyone lives.
_MOVING = ("上", "下", "抬", "搬", "扛", "背")
# Numbers of a date or a clock time that the pieces would otherwise take ("5号来", "12号能来吗").
_DAY_NUMBER = re.compile(rf"^{_NUM}\s*号$")


def address_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each house address in normalised `text`, with its street when one is named."""
    spans: list[tuple[int, int]] = []
    for m in _PIECES.finditer(text):
        start, end = m.start(), m.end()
        piece = text[start:end]
        before = text[:start]
        street = _street_before(before)
        if street:
            start -= len(street)
        elif _DAY_NUMBER.match(piece):
            continue  # a bare "12号" is a day of the month unless a street owns it
        if not street and piece[0] in "一两二三四五六七八九十" and before.endswith(_MOVING):
            continue
        spans.append((start, end))
    return spans


def _street_before(before: str) -> str:
    """The street or compound name that ends right before a house number ("光明路"), or ""."""
    m = _STREET.search(before[-8:])
    if not m:
        return ""
    name = m.group(0)
    # "城关街道光明路": the street is 光明路; what comes before it names a larger place.
    cut = max((name.rfind(w, 0, len(name) - 1) + len(w) for w in _BEFORE_STREET if w in name[:-1]), default=0)
    return name[cut:]


def extract_address(text: str) -> str | None:
    """The first house address in normalised `text` as written ("3号楼2单元501"), or None."""
    spans = address_spans(text)
    return text[spans[0][0]:spans[0][1]].strip() if spans else None


def mask(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with the spans blanked out, keeping every other character at its offset."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)
