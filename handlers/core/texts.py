"""Reply texts and formatting shared by the features: short, friendly, Chinese first."""

from __future__ import annotations

import re

from handlers.language.addresses import address_spans
from handlers.language.textnorm import normalize

STATUS_ZH = {
    "submitted": "待派单",
    "dispatched": "待接单",
    "accepted": "已接单",
    "completed": "待评价",
    "closed": "已完成",
    "cancelled": "已取消",
}

CONFIRM_WORDS = {"1", "确认", "确定", "是", "是的", "好", "好的", "对", "ok", "yes"}
CANCEL_WORDS = {"2", "取消", "不", "不用", "算了", "no"}


def ref(task_id: int) -> str:
    """How a task number is written in replies."""
    return f"#{task_id}"


def hours_text(hours: object) -> str:
    """Hours without a trailing ".00"."""
    value = float(hours or 0)
    return f"{value:g}"


def mask_phone(phone: str | None) -> str:
    """138****5678: enough to recognise, not enough to call."""
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


# Full-width digits, letters and punctuation fold to ASCII one character for one, so a pattern
# found in the folded text masks the same characters of the text as typed.
_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0x2014: 0x2D, 0x2013: 0x2D}
_SEP = r"[-\s.]?"
# A mobile (139 0000 0901, 139-0000-0901, +86 139…), a landline with its area code
# (0421-1234567, (0421)1234567), and any other run of seven or more digits (a phone or an ID).
_PHONES = re.compile(
    rf"(?<!\d)(?:\+?86{_SEP})?(1[3-9]\d){_SEP}(\d{{4}}){_SEP}(\d{{4}})(?!\d)"
    rf"|(?<!\d)\(?(0\d{{2,3}})\)?{_SEP}(\d{{3,4}}){_SEP}(\d{{4}})(?!\d)"
    r"|(?<!\d)\d{7,}(?!\d)"
)
# Digits or Chinese numerals inside a house number, each run masked as one "*".
_NUM = r"(?:\d+|[一二三四五六七八九十两零〇]+)"
_GROUP_ONLY = re.compile(rf"^{_NUM}\s*[组队]$")


def _masked_spans(folded: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) of every phone and house number in the folded text."""
    spans: list[tuple[int, int, str]] = []
    for m in _PHONES.finditer(folded):
        if m.group(1):
            spans.append((m.start(), m.end(), f"{m.group(1)}****{m.group(3)}"))
        elif m.group(4):
            spans.append((m.start(), m.end(), f"{m.group(4)}-****{m.group(6)[-2:]}"))
        else:
            spans.append((m.start(), m.end(), "*" * 7))
    taken = [False] * len(folded)
    for s, e, _ in spans:
        taken[s:e] = [True] * (e - s)
    # House numbers as the request parser finds them (one reader of 门牌 for the draft and the mask).
    # A village group alone ("杨家村7组") names part of a village that everyone there knows, not a house.
    for start, end in address_spans(folded):
        if any(taken[start:end]) or _GROUP_ONLY.match(folded[start:end]):
            continue
        spans.append((start, end, re.sub(_NUM, "*", folded[start:end])))
    return sorted(spans)


def mask_private(text: str, phone: str | None = None) -> str:
    """The text with phones (any format) and house numbers masked, for people who may not see them yet.

    docs/tasks.md, privacy on offer cards: before a volunteer accepts, "3号楼2单元501" reads
    "*号楼*单元*" and "139-0000-0901" reads "139****0901"; the task's own contact number is
    masked wherever it appears, however it was written.
    """
    folded = text.translate(_FOLD)
    out, last = [], 0
    for start, end, replacement in _masked_spans(folded):
        if start < last:
            continue
        out.append(text[last:start])
        out.append(replacement)
        last = end
    out.append(text[last:])
    masked = "".join(out)
    if phone and phone in masked:
        masked = masked.replace(phone, mask_phone(phone))
    return masked


def mask_phones_in(text: str, phone: str | None) -> str:
    """The request text with its phones and house numbers masked (the older name of `mask_private`)."""
    return mask_private(text, phone)


def usage(command: str, example: str) -> str:
    """A hint for a command used without what it needs."""
    return f"请这样发：{command}\n例如：{example}"


def as_typed(raw: str, tail: str) -> str:
    """The end of the raw message that the normalised `tail` came from, punctuation as typed.

    Commands are matched on NFKC-folded text (full-width "，" becomes ","); notes people write
    are kept the way they wrote them.
    """
    raw = raw.strip()
    for start in range(len(raw)):
        if normalize(raw[start:]) == tail:
            return raw[start:].strip()
    return tail
