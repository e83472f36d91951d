"""The columns of each roster file, in the county's words (Chinese headers) and in English keys.

Counties keep rosters under headers like 姓名, 手机号码, 所属站点; the importer reads a header
cell by normalising it (full-width forms, spaces, "（必填）" notes and "*" marks removed) and
looking it up among the column's aliases. The first alias is the header `xinfeng template`
writes and errors name; the English key always works too. When two cells of a header mean the
same column (an export's 单位编码 beside its 所属单位), the alias listed first wins and the
other is read as a note.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of a roster file: its key, its headers (Chinese first), and what it holds."""

    key: str
    aliases: tuple[str, ...]
    required: bool
    meaning: str
    example: str = ""

    @property
    def label(self) -> str:
        """The Chinese header (what templates write and errors name)."""
        return self.aliases[0]


def _c(key: str, aliases: str, required: bool, meaning: str, example: str = "") -> Column:
    return Column(key, tuple(aliases.split()), required, meaning, example)


# The files in the order they are checked and written: each may refer to those before it.
FILES = ("org_units", "teams", "volunteers", "residents", "roles", "pairings", "goods", "points_rules")
OPTIONAL_FILES = frozenset({"residents", "roles", "pairings", "goods", "points_rules"})

# What each file is called in Chinese: template file and sheet names, messages.
KIND_ZH = {
    "org_units": "组织", "teams": "队伍", "volunteers": "志愿者", "residents": "居民", "roles": "角色",
    "pairings": "结对", "goods": "商品", "points_rules": "积分规则",
}

COLUMNS: dict[str, tuple[Column, ...]] = {
    "org_units": (
        _c("code", "单位编码 编码 组织编码 代码", True, "本单位的编码，全网唯一", "BP-CG-PL"),
        _c("name", "单位名称 名称 组织名称 站点名称 阵地名称", True, "单位全称", "蓬莱社区新时代文明实践站"),
        _c("level", "层级 级别 类型 单位层级", True, "省/市/中心/所/站/点（或 province…point）", "站"),
        _c("parent_code", "上级编码 上级单位编码 上级单位", False, "上级单位的编码；最上层留空", "BP-CG"),
        _c("duty_phone", "值班电话 联系电话 电话", False, "值班电话（紧急情况联系）", "0421-5612301"),
        _c("division_code", "行政区划代码 区划代码 行政区划", False, "行政区划代码（6、9 或 12 位）", "211381"),
    ),
    "teams": (
        _c("code", "队伍编码 编码 代码", True, "本队伍的编码，全网唯一", "BP-CG-PL-D"),
        _c("name", "队伍名称 名称 队名", True, "队伍全称", "蓬莱社区志愿服务队"),
        _c("org_code", "所属单位编码 单位编码 所属单位 所属站点 所属组织", True, "所属单位的编码（或唯一的单位名称）",
           "BP-CG-PL"),
        _c("categories", "服务类别 类别 服务领域 服务类型", True, "服务类别，多个用 | 或、分隔", "助老助残|生活帮扶"),
        _c("parent_code", "上级队伍编码 上级队伍 上级编码", False, "上级队伍的编码", "BP-CG-FD"),
        _c("invite_code", "邀请码", False, "志愿者加入用的邀请码；留空自动生成", "PL2026"),
    ),
    "volunteers": (
        _c("name", "姓名 名字 志愿者姓名", True, "姓名", "韩冬梅"),
        _c("phone", "手机号 手机号码 联系电话 手机 电话 联系方式", True, "手机号（11 位）", "13900000018"),
        _c("org_code", "单位编码 所属单位编码 所属单位 所属站点 所属组织 所在单位", True,
           "所属单位的编码（或唯一的单位名称）", "BP-CG-PL"),
        _c("team_codes", "队伍编码 所属队伍编码 所属队伍 队伍", False, "所在队伍的编码（或唯一的队伍名称），多个用 | 分隔",
           "BP-CG-PL-D|BP-CG-FD"),
        _c("skills", "技能 特长 专业特长 技能特长", False, "技能特长，多个用 | 、或逗号分隔", "助老服务"),
        _c("party_member", "是否党员 党员 政治面貌", False, "是/否（或 中共党员、群众…）；留空为否", "是"),
    ),
    "residents": (
        _c("name", "姓名 名字 居民姓名", True, "姓名", "王大娘"),
        _c("phone", "手机号 手机号码 联系电话 手机 电话 联系方式", False, "手机号；没有可留空", "13900000901"),
        _c("org_code", "单位编码 所属单位编码 所属村 所属社区 所属站点 所属单位 村社区", True,
           "所在村（社区）站点的编码或名称", "BP-CG-PL"),
    ),
    "roles": (
        _c("phone", "手机号 手机号码 联系电话 手机", True, "此人的手机号（须已在志愿者或居民名单里）", "13900000103"),
        _c("role", "角色 职务 身份", True, "队长/管理员/志愿服务联合会管理员/驻村第一书记/爱心超市店长", "管理员"),
        _c("scope_code", "范围编码 管辖范围 范围 单位或队伍编码", True, "队长填队伍编码，其他填单位编码", "BP-CG-PL"),
    ),
    "pairings": (
        _c("volunteer_phone", "志愿者手机号 志愿者电话 志愿者手机", True, "结对志愿者的手机号", "13900000020"),
        _c("household_name", "帮扶对象 户主姓名 结对户 结对对象", True, "被帮扶户的姓名", "王大娘"),
        _c("household_phone", "帮扶对象电话 户主电话 结对户电话", False, "被帮扶户的手机号；可留空", "13900000901"),
        _c("org_code", "单位编码 所属村 所属站点 所属单位", True, "所在村（社区）站点的编码或名称", "BP-CG-PL"),
    ),
    "goods": (
        _c("org_code", "单位编码 爱心超市 所属站点 所属单位", True, "爱心超市所在站点的编码或名称", "BP-CG-PL"),
        _c("name", "商品名称 商品 名称", True, "商品名称", "洗衣粉"),
        _c("points", "所需积分 兑换积分 积分", True, "兑换一件所需积分（整数）", "10"),
        _c("stock", "库存 数量 库存数量", True, "现有库存（盘点数）", "20"),
    ),
    "points_rules": (
        _c("org_code", "单位编码 单位 所属单位", True, "单位的编码或名称（下级单位沿用）", "BP-CG"),
        _c("points_per_hour", "每小时积分 积分标准", True, "每服务一小时得多少积分（0–1000，最多两位小数）", "2"),
    ),
}

REQUIRED_COLUMNS = {kind: tuple(c.key for c in cols if c.required) for kind, cols in COLUMNS.items()}
OPTIONAL_COLUMNS = {kind: tuple(c.key for c in cols if not c.required) for kind, cols in COLUMNS.items()}

# Words in a file or sheet name that say which roster it is; the more specific kinds come
# first ("志愿服务队伍" is a teams sheet, "志愿者名单" a volunteers one).
NAME_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("points_rules", ("积分规则", "积分标准", "points_rule")),
    ("pairings", ("结对", "pairing")),
    ("goods", ("爱心超市", "商品", "goods")),
    ("roles", ("角色", "职务", "权限", "管理员", "role")),
    ("residents", ("居民", "村民", "群众", "resident")),
    ("teams", ("队伍", "服务队", "team")),
    ("volunteers", ("志愿者", "volunteer")),
    ("org_units", ("组织", "单位", "阵地", "站点", "网络", "机构", "org_unit", "org")),
)

_NOTE = re.compile(r"[(\[（【].*?[)\]）】]|[*＊:：]")
_SPACE = re.compile(r"\s+")


def normalise(header: str) -> str:
    """A header cell as looked up: NFKC, lower case, no spaces, notes or marks."""
    text = unicodedata.normalize("NFKC", header).replace("\ufeff", "").strip().lower()
    text = _NOTE.sub("", text)
    return _SPACE.sub("", text).replace("-", "_")


_ALIASES: dict[str, dict[str, tuple[str, int]]] = {
    kind: {normalise(a): (col.key, rank) for col in cols for rank, a in enumerate((*col.aliases, col.key))}
    for kind, cols in COLUMNS.items()
}


@dataclass(frozen=True)
class HeaderMatch:
    """How a header row reads as one kind of file: the cell index of each column it names."""

    kind: str
    positions: dict[str, int]
    missing: tuple[str, ...]
    repeated: tuple[str, ...]

    @property
    def fits(self) -> bool:
        """True when every required column is there, once."""
        return not self.missing and not self.repeated


def match_header(kind: str, cells: list[str]) -> HeaderMatch:
    """Read a header row as `kind`: which cell holds which column, what is missing or repeated."""
    best: dict[str, tuple[int, int]] = {}  # key -> (alias rank, cell index)
    repeated: set[str] = set()
    for index, cell in enumerate(cells):
        found = _ALIASES[kind].get(normalise(cell)) if cell else None
        if found is None:
            continue
        key, rank = found
        if key in best and best[key][0] == rank:
            repeated.add(key)
        elif key not in best or rank < best[key][0]:
            best[key] = (rank, index)
    missing = tuple(k for k in REQUIRED_COLUMNS[kind] if k not in best)
    return HeaderMatch(kind, {k: i for k, (_, i) in best.items()}, missing, tuple(sorted(repeated)))


def kind_by_name(name: str) -> str | None:
    """The kind a file or sheet name says it is ("志愿者名单.xlsx" → volunteers), or None."""
    stem = normalise(name.rsplit(".", 1)[0] if "." in name else name)
    if stem in COLUMNS:
        return stem
    for kind, words in NAME_HINTS:
        if any(w in stem for w in words):
            return kind
    return None


def label(kind: str, key: str) -> str:
    """The Chinese header of a column."""
    for col in COLUMNS[kind]:
        if col.key == key:
            return col.label
    return key


def describe(kind: str, keys: tuple[str, ...] | list[str]) -> str:
    """Columns named for a message: "姓名（name）、手机号（phone）"."""
    return "、".join(f"{label(kind, k)}（{k}）" for k in keys)
