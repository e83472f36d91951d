"""China's administrative divisions (行政区划代码): which province, city or county an org unit stands for.

The table comes from the npm package `china-area-data` (MIT; the National Bureau of Statistics'
codes, 2019), installed by `make` into `node_modules/` — never committed. A unit is matched by
its `division_code` (six digits: 211381 is 北票市) when it has one, otherwise by its name inside
its parent's division ("北票市新时代文明实践中心" under 辽宁省 → 北票市), so a network whose codes
are not filled in yet still gets its map. Municipalities' "市辖区" placeholders are skipped.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

DivisionLevel = Literal["province", "city", "county"]
# Org-unit level → the division level it stands for; institutes and below have no boundaries.
UNIT_LEVEL: dict[str, DivisionLevel] = {"province": "province", "city": "city", "center": "county"}
_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
# What a unit's name adds after the place: "北票市新时代文明实践中心" → "北票市".
_UNIT_SUFFIX = re.compile(r"(新时代)?(文明实践)?(中心|所|站|点)$")
_PLACE_SUFFIX = re.compile(r"(省|市|自治区|特别行政区|地区|盟|自治州|自治县|县|区|旗|自治旗|林区|特区)$")


def package_root() -> Path:
    """Where the npm packages are: `XINFENG_MAP_DATA`, else the repository's node_modules."""
    configured = os.environ.get("XINFENG_MAP_DATA")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "node_modules"


@dataclass(frozen=True)
class Division:
    """One province, prefecture-level city or county-level division."""

    code: str
    name: str
    level: DivisionLevel
    parent: str | None

    @property
    def province_code(self) -> str:
        """The code of the province it lies in."""
        return self.code[:2] + "0000"

    @property
    def city_code(self) -> str | None:
        """The code of its prefecture-level city (None for a province)."""
        return None if self.level == "province" else self.code[:4] + "00"


@dataclass
class Divisions:
    """The whole table: divisions by code, and each one's children."""

    by_code: dict[str, Division] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)

    def get(self, code: str | None) -> Division | None:
        """The division with this code."""
        return self.by_code.get(code or "")

    def below(self, code: str, level: DivisionLevel) -> list[Division]:
        """The divisions of `level` under `code` (a county under a province is found through its city)."""
        found: list[Division] = []
        for child in self.children.get(code, []):
            division = self.by_code[child]
            if division.level == level:
                found.append(division)
            else:
                found.extend(self.below(child, level))
        return found

    def find(self, name: str, level: DivisionLevel, within: str | None) -> Division | None:
        """The division of `level` called `name` (as a unit names it), inside `within` when given."""
        place = place_name(name)
        pool = self.below(within, level) if within else [d for d in self.by_code.values() if d.level == level]
        exact = [d for d in pool if d.name == place]
        if len(exact) == 1:
            return exact[0]
        if short_place(place) != place:
            return None  # "朝阳区" is not "朝阳县": a name with its suffix must match exactly
        loose = [d for d in pool if short_place(d.name) == place]
        return loose[0] if len(loose) == 1 else None


def place_name(unit_name: str) -> str:
    """The place a unit's name starts with: "北票市新时代文明实践中心" → "北票市"."""
    return _UNIT_SUFFIX.sub("", unit_name).strip() or unit_name


def short_place(name: str) -> str:
    """A place name without its administrative suffix: "辽宁省" → "辽宁", "朝阳市" → "朝阳"."""
    return _PLACE_SUFFIX.sub("", name) or name


def parse_divisions(data: dict[str, dict[str, str]]) -> Divisions:
    """The table from china-area-data's `data.json` ({"86": provinces, code: children …})."""
    table = Divisions()

    def add(code: str, name: str, level: DivisionLevel, parent: str | None) -> None:
        table.by_code[code] = Division(code, name, level, parent)
        if parent is not None:
            table.children.setdefault(parent, []).append(code)

    for pcode, pname in data.get("86", {}).items():
        add(pcode, pname, "province", None)
        for ccode, cname in data.get(pcode, {}).items():
            # A municipality's "市辖区"/"县" rows are no city: their counties hang on the province.
            city_parent = pcode
            if cname not in _PLACEHOLDERS:
                add(ccode, cname, "city", pcode)
                city_parent = ccode
            for kcode, kname in data.get(ccode, {}).items():
                if kname not in _PLACEHOLDERS and len(kcode) == 6:
                    add(kcode, kname, "county", city_parent)
    return table


@lru_cache(maxsize=4)
def load_divisions(root: Path) -> Divisions | None:
    """The table from the installed package under `root`; None when it is not installed."""
    path = root / "china-area-data" / "data.json"
    if not path.is_file():
        return None
    return parse_divisions(json.loads(path.read_text(encoding="utf-8")))
