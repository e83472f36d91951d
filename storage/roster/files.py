"""Roster files (名单文件): turning cells into typed values, with a Chinese reason when one cannot be read.

`xinfeng import` (docs/import.md) reads the sheets counties keep (`storage.roster.sheets`); the
parsers here read one cell each (a phone, a level, a role, codes, categories…). The records
they make and `Known` — what rows may refer to — are in `storage.roster.records`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from storage.models import LEVEL_ORDER, LEVEL_ZH
from storage.roster.columns import (
    FILES,
    OPTIONAL_COLUMNS,
    OPTIONAL_FILES,
    REQUIRED_COLUMNS,
)
from storage.roster.reading import Row

__all__ = ["FILES", "OPTIONAL_COLUMNS", "OPTIONAL_FILES", "REQUIRED_COLUMNS", "Row"]

# Request categories (docs/import.md). A team's categories must come from here: a misspelt one
# would silently never receive a task.
CATEGORIES = (
    "理论宣讲", "农业技术", "卫生健康", "法律服务", "文化文艺", "助老助残",
    "助学支教", "心理辅导", "环境整治", "生活帮扶", "移风易俗", "其他",
)
ROLES = ("captain", "admin", "federation_admin", "first_secretary", "shopkeeper")
ROLE_ZH = {
    "captain": "队长",
    "admin": "管理员",
    "federation_admin": "志愿服务联合会管理员",
    "first_secretary": "驻村第一书记",
    "shopkeeper": "爱心超市店长",
}
_ROLE_ALIASES = {**{r: r for r in ROLES}, **{zh: r for r, zh in ROLE_ZH.items()},
                 "站长": "admin", "所长": "admin", "中心管理员": "admin", "联合会管理员": "federation_admin",
                 "第一书记": "first_secretary", "店长": "shopkeeper", "超市店长": "shopkeeper"}
# Org-unit levels each org-scoped role may be granted at (captains are scoped to a team).
ROLE_LEVELS: dict[str, tuple[str, ...]] = {
    "admin": tuple(LEVEL_ORDER),
    "federation_admin": tuple(LEVEL_ORDER),
    "first_secretary": ("station",),
    "shopkeeper": ("station", "point"),
}
# Residents live in a village or community: the unit their requests start from.
RESIDENT_LEVELS = ("station", "point")

_LEVEL_ALIASES = {
    **{lv: lv for lv in LEVEL_ORDER}, **{zh: lv for lv, zh in LEVEL_ZH.items()},
    "省级": "province", "市级": "city", "地级市": "city", "县": "center", "县级": "center", "县中心": "center",
    "实践中心": "center", "乡镇": "institute", "街道": "institute", "实践所": "institute", "村": "station",
    "社区": "station", "实践站": "station", "实践点": "point",
}
_PARTY = {"1": True, "true": True, "yes": True, "是": True, "0": False, "false": False, "no": False,
          "否": False, "": False,
          # 政治面貌, as rosters record it: only members of the Communist Party count.
          "中共党员": True, "党员": True, "共产党员": True, "中共预备党员": True, "预备党员": True,
          "群众": False, "共青团员": False, "团员": False, "无党派人士": False, "无党派": False,
          "民主党派": False, "其他": False, "无": False}
_PHONE = re.compile(r"1[3-9]\d{9}")
_PHONE_NOISE = re.compile(r"[\s\-–—()]")
_LANDLINE = re.compile(r"(0\d{2,3})-?(\d{7,8})(?:(?:-|转)(\d{1,6}))?|1[3-9]\d{9}|\d{3,8}")
_DIVISION = re.compile(r"\d{6}|\d{9}|\d{12}")
_CODE = re.compile(r"[^\s|,]{1,64}")
_INVITE = re.compile(r"[A-Z0-9]{4,32}")
_SKILL_SEP = re.compile(r"[|、,，;；/]")
_LIST_SEP = re.compile(r"[|、,，;；]")


class RowError(ValueError):
    """What is wrong with one cell or row, in Chinese; the caller prefixes the file and line."""


# ---------------------------------------------------------------- cell parsers


def parse_phone(raw: str) -> str:
    """A mainland mobile number, spaces/dashes and a +86 prefix removed."""
    digits = _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", raw))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    elif digits.startswith("+86"):
        digits = digits[3:]
    if not _PHONE.fullmatch(digits):
        raise RowError(f"手机号“{raw}”不对（应是 1 开头的 11 位数字）")
    return digits


def parse_duty_phone(raw: str) -> str | None:
    """A duty phone: a landline with its area code ("0421-5612301"), a mobile or a short number."""
    text = re.sub(r"[\s()（）]", "", unicodedata.normalize("NFKC", raw))
    if not text:
        return None
    found = _LANDLINE.fullmatch(text)
    if found is None:
        raise RowError(f"值班电话“{raw}”不对（如 0421-5612301 或手机号）")
    if found.group(1):
        return f"{found.group(1)}-{found.group(2)}" + (f"-{found.group(3)}" if found.group(3) else "")
    return text


def parse_division(raw: str) -> str | None:
    """An administrative division code (行政区划代码): 6, 9 or 12 digits, or None when blank."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        return None
    if not _DIVISION.fullmatch(text):
        raise RowError(f"行政区划代码“{raw}”不对（应是 6、9 或 12 位数字）")
    return text


def parse_party(raw: str) -> bool:
    """Party membership from 是/否, 1/0, yes/no, true/false, 政治面貌 (中共党员, 群众…) or blank (no)."""
    key = unicodedata.normalize("NFKC", raw).strip().lower()
    if key not in _PARTY:
        raise RowError(f"是否党员“{raw}”看不懂（填 是/否，或 中共党员/群众，也可留空）")
    return _PARTY[key]


def parse_level(raw: str) -> str:
    """An org-unit level, as 省/市/中心/所/站/点 (or 县/乡镇/村…) or in English."""
    level = _LEVEL_ALIASES.get(unicodedata.normalize("NFKC", raw).strip().lower())
    if level is None:
        raise RowError(f"层级“{raw}”看不懂（填 省/市/中心/所/站/点，或 {'/'.join(LEVEL_ORDER)}）")
    return level


def parse_role(raw: str) -> str:
    """A role, by its Chinese title (队长, 管理员, 站长…) or its English key."""
    role = _ROLE_ALIASES.get(unicodedata.normalize("NFKC", raw).strip().lower())
    if role is None:
        raise RowError(f"角色“{raw}”看不懂（填 {'/'.join(ROLE_ZH.values())}，或 {'/'.join(ROLES)}）")
    return role


def parse_code(raw: str, column: str) -> str:
    """A unit or team code (or name): up to 64 characters, no spaces, commas or `|`."""
    code = unicodedata.normalize("NFKC", raw).strip()
    if not _CODE.fullmatch(code):
        raise RowError(f"{column}“{raw}”不对（最多 64 个字符，不能有空格、逗号或 |）")
    return code


def parse_invite(raw: str) -> str | None:
    """An invite code (4-32 letters/digits, stored upper-case), or None when blank."""
    code = unicodedata.normalize("NFKC", raw).strip().upper()
    if not code:
        return None
    if not _INVITE.fullmatch(code):
        raise RowError(f"邀请码“{raw}”不对（4–32 位字母或数字）")
    return code


def parse_categories(raw: str) -> tuple[str, ...]:
    """Categories separated by `|` or 、, each one of CATEGORIES."""
    cats = _split(unicodedata.normalize("NFKC", raw), _LIST_SEP)
    unknown = [c for c in cats if c not in CATEGORIES]
    if unknown:
        raise RowError(f"服务类别“{'、'.join(unknown)}”不在类别表里（可选：{'、'.join(CATEGORIES)}）")
    return cats


def parse_codes(raw: str, column: str) -> tuple[str, ...]:
    """Codes separated by `|` or 、."""
    return tuple(parse_code(c, column) for c in _split(unicodedata.normalize("NFKC", raw), _LIST_SEP))


def parse_skills(raw: str) -> tuple[str, ...]:
    """Free-text skills separated by `|`, 、, commas, semicolons or slashes."""
    return _split(raw, _SKILL_SEP)


def delimited(items: Iterable[str]) -> str:
    """Items stored as "|a|b|" (delimited on both sides, so `LIKE '%|a|%'` is exact), or ""."""
    items = list(items)
    return f"|{'|'.join(items)}|" if items else ""


def check_role_level(role: str, level: str) -> None:
    """Refuse an org-scoped role at a level it does not belong to."""
    allowed = ROLE_LEVELS[role]
    if level not in allowed:
        where = "/".join(LEVEL_ZH[lv] for lv in allowed)
        raise RowError(f"{ROLE_ZH[role]}只能管{where}，这里填的是{LEVEL_ZH[level]}")


def _split(raw: str, sep: re.Pattern[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in sep.split(raw) if p.strip()))
