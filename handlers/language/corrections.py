"""What a correction changes (更正): "不对 是礼拜天上午", "电话打错了 是139…", "不是杨家村 是中毛屯村".

The wrong value follows 不是 and is set aside; what remains gives the new time, phone, place,
house address or number of people. A correction naming none of these ("不是修水管 是修暖气")
changes what is needed: `what` is the text that replaces it.
"""

from __future__ import annotations

import re
from typing import Any

from handlers.language import nlp
from handlers.language.addresses import address_spans, mask
from handlers.language.people import volunteers_needed
from handlers.language.place_names import extract_place
from handlers.language.timeparse import TimeMention

__all__ = ["corrections_in"]

# "不是三组", "不是203": the denied value, up to the next space or punctuation.
_DENIED = re.compile(r"不是\s*[^\s,.;!?，。；！？]+")
_DOOR_NUMBER = re.compile(r"(?<!\d)\d{2,5}(?:室|号)?(?!\d)")
# Words of the correcting itself, taken out to leave what is now wanted.
_MARKERS = re.compile(
    r"不对|(?:写|打|说|弄|搞|记)错(?:了|字了)?|哎呀|说成|改成|改为|改到|改一下|改下|应该是|更正|纠正|补充(?:一下)?|"
    r"再加个?|加个|换成|刚才说的|刚才说|刚才|地址是|电话是|号码是|时间是|不是|是|了|吧|呢|啊")


def corrections_in(
    text: str, when: TimeMention | None, phones: list[str], place: str | None, people: int | None
) -> dict[str, Any]:
    """The fields a correction changes, from normalised `text` (phones already blanked out)."""
    kept = mask(text, [m.span() for m in _DENIED.finditer(text)])
    out: dict[str, Any] = {}
    if when is not None:
        out["when"] = [when.start.isoformat(), when.end.isoformat()]
        out["when_precision"] = when.precision
    if phones:
        out["phone"] = phones[0]
    if place is not None:
        out["place"] = extract_place(nlp.words(kept.lower())) or place
    spans = address_spans(kept)
    if spans:
        out["address"] = kept[spans[0][0]:spans[0][1]].strip()
    elif "门牌" in kept or "房号" in kept:
        door = _DOOR_NUMBER.search(kept)
        if door:
            out["address"] = door.group(0)
    if people is not None:
        out["people"] = volunteers_needed(kept) or people
    if not out:
        what = " ".join(_MARKERS.sub(" ", kept).split())
        if what:
            out["what"] = what
    return out
