"""The data map as a map: a unit's children on their boundaries, each with its figures.

A province is drawn as its cities, a city as its counties (the children that are org units
coloured by their figures, the rest of the province or city in grey for context); a county is
drawn as itself inside its city, since towns have no boundaries in the package — its towns
(and any child without a boundary) are listed in `unmapped` and shown as bars instead. Units
are matched to divisions by `division_code` when the column exists and is filled, else by name
(`storage.datamap.divisions`). Both the dashboard's `/api/units/{code}/map` and the chat map read this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.datamap.boundaries import Boundaries, Shape, to_geometry
from storage.datamap.divisions import (
    UNIT_LEVEL,
    Division,
    Divisions,
    load_divisions,
    package_root,
)
from storage.datamap.figures import Figures, child_units, children_figures, figures
from storage.models import OrgUnit
from storage.people.network import ancestors

# The figures a map can show: key → (what, unit).
METRICS: dict[str, tuple[str, str]] = {
    "volunteers": ("志愿者", "人"),
    "active_volunteers": ("近30天服务的志愿者", "人"),
    "tasks": ("任务", "个"),
    "hours": ("服务时长", "小时"),
    "activities": ("活动", "场"),
}
NOT_INSTALLED = "地图数据没有安装（在服务器上运行 make 即可安装），下面以柱状图和表格显示。"


def metric_value(fig: Figures, metric: str) -> float:
    """One of `METRICS` for a unit."""
    return float(getattr(fig, metric))


@dataclass
class MapArea:
    """One shape on the map: a child unit (coloured), the unit itself (a county), or grey context."""

    name: str
    shape: Shape
    unit: Figures | None = None
    focus: bool = False


@dataclass
class UnitMap:
    """What the map of a unit shows, and what it cannot show."""

    unit: Figures
    areas: list[MapArea] = field(default_factory=list)
    unmapped: list[Figures] = field(default_factory=list)
    children: list[Figures] = field(default_factory=list)
    note: str = ""
    kind: str = ""  # "cities", "counties" or "county"; "" when there is no map

    @property
    def available(self) -> bool:
        """Whether there is anything to draw."""
        return bool(self.areas)

    def to_json(self) -> dict[str, Any]:
        """GeoJSON for ECharts' registerMap plus each area's figures (every metric, so switching needs no call)."""
        return {
            "available": self.available,
            "kind": self.kind,
            "note": self.note,
            "metrics": {k: {"label": label, "unit": unit} for k, (label, unit) in METRICS.items()},
            "geo": {"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {"name": a.name}, "geometry": to_geometry(a.shape)}
                for a in self.areas]},
            "regions": [{"name": a.name, "code": a.unit.code if a.unit else None,
                         "unit_name": a.unit.name if a.unit else None, "focus": a.focus,
                         "values": {k: metric_value(a.unit, k) for k in METRICS} if a.unit else None}
                        for a in self.areas],
            "unmapped": [{"code": f.code, "name": f.name} for f in self.unmapped],
        }


def _resolve(chain: list[OrgUnit], divisions: Divisions) -> dict[int, Division]:
    """Each unit of a root-first chain that stands for a division, matched by code or by name inside its parent's."""
    found: dict[int, Division] = {}
    within: str | None = None
    for unit in chain:
        level = UNIT_LEVEL.get(unit.level)
        if level is None:
            continue
        division = divisions.get(getattr(unit, "division_code", None))
        if division is None or division.level != level:
            division = divisions.find(unit.name, level, within)
        if division is not None:
            found[unit.id] = division
            within = division.code
    return found


def _province_of(division: Division, divisions: Divisions) -> Division:
    return divisions.by_code[division.province_code]


def _shape_of(division: Division, divisions: Divisions, boundaries: Boundaries) -> Shape | None:
    province = _province_of(division, divisions).name
    if division.level == "city":
        return boundaries.city_outline(province, division.name)
    if division.level == "county" and division.parent:
        city = divisions.by_code.get(division.parent)
        return boundaries.county_shapes(province, city.name).get(division.name) if city else None
    return None


async def unit_map(session: AsyncSession, unit: OrgUnit, now: datetime, *, root: Path | None = None,
                   unit_figures: bool = True) -> UnitMap:
    """The map of a unit's children (province, city) or of the unit itself (county), with the figures.

    `unit_figures=False` (the dashboard, which has them already) reads the unit's own figures
    only where the map shows them: a county.
    """
    root = root or package_root()
    kids = await child_units(session, unit)
    children = await children_figures(session, unit, now, children=kids)
    own_figures = unit_figures or unit.level == "center"
    placeholder = Figures(unit.id, unit.code, unit.name, unit.level)
    result = UnitMap(unit=await figures(session, unit, now) if own_figures else placeholder, children=children)
    divisions, boundaries = load_divisions(root), Boundaries(root)
    if divisions is None or not boundaries.available:
        result.note, result.unmapped = NOT_INSTALLED, list(children)
        return result
    if unit.level not in UNIT_LEVEL:
        result.note = "乡镇（街道）和村（社区）没有边界数据，没有地图；下面以柱状图显示。"
        result.unmapped = list(children)
        return result
    chain = list(reversed(await ancestors(session, unit)))
    known = _resolve(chain, divisions)
    own = known.get(unit.id)
    if own is None:
        result.note = "这个单位没有对应的行政区划（division_code），没有地图；下面以柱状图显示。"
        result.unmapped = list(children)
        return result
    child_divisions = _resolve_children(kids, own, divisions)
    by_id = {f.unit_id: f for f in children}
    if own.level == "county":
        _county(result, own, divisions, boundaries)
        result.unmapped = list(children)
        return result
    result.kind = "cities" if own.level == "province" else "counties"
    context = divisions.below(own.code, "city" if own.level == "province" else "county")
    drawn: dict[str, MapArea] = {}
    for division in context:
        shape = _shape_of(division, divisions, boundaries)
        if shape:
            drawn[division.code] = MapArea(division.name, shape)
    coloured: list[MapArea] = []
    for kid in kids:
        division = child_divisions.get(kid.id)
        shape = _shape_of(division, divisions, boundaries) if division else None
        if division is None or not shape:
            result.unmapped.append(by_id[kid.id])
            continue
        area = drawn.pop(division.code, None) or MapArea(division.name, shape)
        area.unit = by_id[kid.id]
        coloured.append(area)
    # Grey context first, so a child county lying on a grey city outline is drawn on top of it.
    result.areas = [*drawn.values(), *coloured]
    if not coloured:
        result.note = "下级单位都没有对应的行政区划，地图只显示轮廓；下面以柱状图显示。"
    elif result.unmapped:
        result.note = f"{len(result.unmapped)} 个下级单位没有边界数据，见下方柱状图。"
    return result


def _resolve_children(kids: list[OrgUnit], own: Division, divisions: Divisions) -> dict[int, Division]:
    found: dict[int, Division] = {}
    for kid in kids:
        level = UNIT_LEVEL.get(kid.level)
        if level is None:
            continue
        division = divisions.get(getattr(kid, "division_code", None))
        if division is None or division.level != level:
            division = divisions.find(kid.name, level, own.code)
        # A child must lie inside its parent's division to be drawn on its map.
        if division is not None and division.code.startswith(own.code[: 2 if own.level == "province" else 4]):
            found[kid.id] = division
    return found


def _county(result: UnitMap, own: Division, divisions: Divisions, boundaries: Boundaries) -> None:
    """A county: itself, coloured, among its city's other counties in grey."""
    result.kind = "county"
    city = divisions.by_code.get(own.parent or "")
    shape = _shape_of(own, divisions, boundaries)
    if city is None or not shape:
        result.note = "没有这个县（市、区）的边界数据；下面以柱状图显示。"
        return
    province = _province_of(own, divisions).name
    shapes = boundaries.county_shapes(province, city.name)
    result.areas = [MapArea(name, s) for name, s in shapes.items() if name != own.name]
    result.areas.append(MapArea(own.name, shape, unit=result.unit, focus=True))
    result.note = f"{own.name}在{city.name}的位置。乡镇（街道）没有边界数据，各下级单位见柱状图。"
