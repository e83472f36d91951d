"""Text normalisation shared by every command parser (文本规范化).

Users type on phones with Chinese input methods, so the same command arrives as "#12", "＃１２",
"12号" or "十二号", and hours as "2小时", "两个小时" or "二小时" (docs/commands.md). These helpers
turn such variants into plain values; they are pure functions with no I/O and no heavy imports.
"""

from __future__ import annotations

import math
import re
import unicodedata

__all__ = ["normalize", "parse_number", "parse_ref", "parse_hours", "parse_rating"]

# Characters that NFKC keeps but that are invisible noise in pasted WeChat/Telegram text.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = re.compile(r"\s+")

_DIGITS: dict[str, int] = {
    "零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "俩": 2, "三": 3, "叁": 3,
    "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
    "九": 9, "玖": 9, **{str(d): d for d in range(10)},
}
_UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_NUM_CHARS = "".join(_DIGITS) + "".join(_UNITS) + "万点.半个"
# A number is at most this many characters: longer runs ("万" × 3,000, 400 digits) are no number
# anyone types, and bounding the pattern keeps matching linear in the text's length.
MAX_NUMBER_CHARS = 40
_NUM_CLASS = f"[{re.escape(_NUM_CHARS)}]"
_NUM = f"{_NUM_CLASS}{{1,{MAX_NUMBER_CHARS}}}"
_ARABIC = re.compile(r"\d+(?:\.\d+)?")

# A reference written on its own: "#12", "第12号", "12号", "12", "#十二".
_REF_FULL = re.compile(rf"第?\s*#?\s*({_NUM})\s*号?")
# A reference inside longer text must be marked ("#12", "12号"), or any number would match.
# A number is matched whole: never the first or last 40 digits of a longer run.
_REF_MARKED = re.compile(rf"#\s*({_NUM})(?!{_NUM_CLASS})|第?\s*(?<!{_NUM_CLASS})({_NUM})\s*号")

# "1小时30分钟", "两个半钟头": a duration or a rating is never longer than this.
MAX_DURATION_CHARS = 24
_HOUR_UNITS = r"(?:个)?(?:小时|钟头|hours?|hrs?|h)"
_MIN_UNITS = r"(?:分钟|分|minutes?|mins?|m)"
_HOURS = re.compile(rf"(.+?){_HOUR_UNITS}")
_MINUTES = re.compile(rf"(.+?){_MIN_UNITS}")
_HOURS_MINUTES = re.compile(rf"(.+?){_HOUR_UNITS}(.+?){_MIN_UNITS}?")
_RATING = re.compile(r"(.+?)\s*(?:颗星|星|分|stars?)?")


def normalize(text: str) -> str:
    """NFKC-fold full-width forms, drop invisible characters, trim and collapse whitespace."""
    folded = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return _SPACES.sub(" ", folded).strip()


def _chinese_section(s: str) -> int | None:
    """A Chinese number below 万 ("二十五", "一百零五", "三千"), or digits read one by one ("二零二六")."""
    if not any(c in _UNITS for c in s):
        # No units: read digit by digit ("二零二六" → 2026), as people write years and codes.
        if not all(c in _DIGITS for c in s):
            return None
        return int("".join(str(_DIGITS[c]) for c in s))
    total, current = 0, None
    for c in s:
        if c in _DIGITS:
            if current is not None and current != 0:
                return None  # two digits in a row without a unit ("二三十") is ambiguous
            current = _DIGITS[c]
        elif c in _UNITS:
            # A bare leading "十" means ten ("十二" = 12).
            total += (1 if current is None else current) * _UNITS[c]
            current = None
        else:
            return None
    return total + (current or 0)


def _chinese_int(s: str) -> int | None:
    """Parse a Chinese integer such as "二十五", "一百零五", "三万", or a digit string "二零二六".

    Read in one pass, never recursively: "万" may appear once ("三万五千"); a run of them
    ("万万万…", 3,000 long) is no number people write, and is refused rather than recursed into.
    """
    if not s or len(s) > MAX_NUMBER_CHARS or s.count("万") > 1:
        return None
    if "万" in s:
        high, _, low = s.partition("万")
        high_v = _chinese_section(high) if high else 1
        low_v = _chinese_section(low) if low else 0
        if high_v is None or low_v is None:
            return None
        return high_v * 10000 + low_v
    return _chinese_section(s)


def parse_number(token: str) -> float | None:
    """Parse an Arabic or Chinese number ("2.5", "两", "二十五", "半", "一个半"); None if not one.

    Anything longer than `MAX_NUMBER_CHARS` is no number a person types, and is None.
    """
    s = normalize(token).replace(" ", "")
    if not s or len(s) > MAX_NUMBER_CHARS:
        return None
    if _ARABIC.fullmatch(s):
        return float(s)
    if s == "半":
        return 0.5
    half = 0.0
    if s.endswith("半") and len(s) > 1:
        # "一个半" / "两个半" / "1个半": the whole part plus a half.
        s, half = s[:-1], 0.5
    if s.endswith("个") and len(s) > 1:
        s = s[:-1]  # "两个(小时)": the measure word carries no value.
    if _ARABIC.fullmatch(s):
        return float(s) + half
    if "点" in s:
        if half:
            return None
        whole, _, frac = s.partition("点")
        whole_v = _chinese_int(whole)
        if whole_v is None or not frac or not all(c in _DIGITS for c in frac):
            return None
        return float(f"{whole_v}." + "".join(str(_DIGITS[c]) for c in frac))
    value = _chinese_int(s)
    return None if value is None else float(value) + half


def _as_positive_int(token: str) -> int | None:
    """A number token that is a whole number ≥ 1, else None (digits are read exactly, never as a float)."""
    digits = normalize(token).replace(" ", "")
    if digits.isascii() and digits.isdigit():
        return int(digits) if int(digits) >= 1 else None
    value = parse_number(token)
    # Beyond 2**53 a float no longer holds every whole number: no reference is that large anyway.
    if value is None or not math.isfinite(value) or not 1 <= value < 2**53 or value != int(value):
        return None
    return int(value)


def parse_ref(text: str) -> int | None:
    """Parse a task/activity reference ("#12", "＃12", "12号", "第12号", "十二号", "12"); None if absent."""
    s = normalize(text)
    full = _REF_FULL.fullmatch(s)
    if full:
        return _as_positive_int(full.group(1))
    # Inside a longer command ("完成 #12 2小时") only an explicitly marked number counts.
    for m in _REF_MARKED.finditer(s):
        ref = _as_positive_int(m.group(1) or m.group(2))
        if ref is not None:
            return ref
    return None


def parse_hours(text: str) -> float | None:
    """Parse a duration in hours ("2小时", "两个小时", "1.5h", "半小时", "90分钟", "2"); None if not one."""
    s = normalize(text).lower().replace(" ", "")
    if not s or len(s) > MAX_DURATION_CHARS:
        return None
    value: float | None = None
    if m := _HOURS_MINUTES.fullmatch(s):
        # "1小时30分钟" / "一个小时二十分"
        h, mins = parse_number(m.group(1)), parse_number(m.group(2))
        if h is not None and mins is not None:
            value = h + mins / 60
    if value is None and (m := _HOURS.fullmatch(s)):
        value = parse_number(m.group(1))
    if value is None and (m := _MINUTES.fullmatch(s)):
        mins = parse_number(m.group(1))
        value = None if mins is None else mins / 60
    if value is None:
        value = parse_number(s)  # a bare number in a "完成 #12 2" command means hours
    # Rounded so that ledgers add up exactly; range checks (e.g. activity length) are the caller's.
    return round(value, 2) if value is not None and value > 0 else None


def parse_rating(text: str) -> int | None:
    """Parse a 1–5 rating ("5", "五", "5星", "五星", "5分", "★★★★"); None otherwise."""
    s = normalize(text).lower()
    if len(s) > MAX_DURATION_CHARS:
        return None
    if s and set(s) <= {"★", "⭐", "☆"}:
        # Star glyphs from an emoji keyboard: count the filled ones.
        s = str(sum(c in "★⭐" for c in s))
    m = _RATING.fullmatch(s)
    if not m:
        return None
    value = parse_number(m.group(1))
    if value is None or value != int(value) or not 1 <= value <= 5:
        return None
    return int(value)
