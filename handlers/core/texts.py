"""Reply texts and formatting shared by the features: short, friendly, Chinese first."""

from __future__ import annotations

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


def mask_phones_in(text: str, phone: str | None) -> str:
    """The request text with its contact number masked, for people who may not see it."""
    import re

    text = re.sub(r"(1[3-9]\d)\d{4}(\d{4})", r"\1****\2", text)
    if phone:
        text = text.replace(phone, mask_phone(phone))
    return text


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
