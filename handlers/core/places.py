"""Villages as people name them: "杨家村" finds "杨家村新时代文明实践站", a near miss gets suggestions.

Registration, wishes, the welcome and the moral day all match or print village names the
same way, so the rule lives here, below every feature. When a name finds no village, the
suggestions are never empty: a county or town ("北票") names the villages under it, a near
miss the closest village names, anything else the villages of the person's own county.
"""

from __future__ import annotations

import difflib
import re

from storage.db import Session
from storage.models import OrgUnit
from storage.people.network import ancestors, get_unit, units_at_levels, units_under

# Where people live: a village station, or one of its points.
VILLAGE_LEVELS = ("station", "point")
# Areas above the villages that people name when they mean "somewhere in there".
REGION_LEVELS = ("city", "center", "institute")
_SUFFIXES = re.compile(r"(新时代)?(文明实践)?(站|点|中心|所)$")


def village_core(name: str) -> str:
    """A unit's name without the "新时代文明实践站" tail, as villagers say it."""
    return _SUFFIXES.sub("", name).strip() or name


async def find_villages(session: Session, query: str) -> tuple[list[OrgUnit], list[OrgUnit]]:
    """Exact-ish matches, and near misses to suggest."""
    units = await units_at_levels(session, VILLAGE_LEVELS)
    q = query.strip()
    exact = [u for u in units if u.code == q or u.name == q]
    if exact:
        return exact, []
    q_core = village_core(q).removesuffix("村").removesuffix("社区") or q
    hits = [u for u in units if q in u.name or q_core in village_core(u.name)]
    # A village is a station; its points (农家书屋, 道德讲堂) share its name but nobody lives there.
    stations = [u for u in hits if u.level == "station"]
    if stations:
        return stations, []
    if hits:
        return hits, []
    cores = {village_core(u.name): u for u in units}
    close = difflib.get_close_matches(village_core(q), list(cores), n=3, cutoff=0.5)
    return [], [cores[c] for c in close]


async def find_regions(session: Session, query: str) -> list[OrgUnit]:
    """Counties, towns and cities whose name (as people say it) contains the query or is contained in it."""
    q = village_core(query.strip())
    if not q:
        return []
    units = await units_at_levels(session, REGION_LEVELS)
    return [u for u in units if q in u.name or (len(village_core(u.name)) > 1 and village_core(u.name) in q)]


async def villages_under(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    """The village stations inside an area, by name."""
    return await units_under(session, unit, ("station",))


async def county_villages(session: Session, home_unit_id: int | None) -> list[OrgUnit]:
    """The village stations of the county a person belongs to (every village when that is unknown)."""
    if home_unit_id is not None:
        home = await get_unit(session, home_unit_id)
        if home is not None:
            county = next((u for u in await ancestors(session, home) if u.level == "center"), None)
            if county is not None:
                return await villages_under(session, county)
    return await units_at_levels(session, ("station",))


async def suggest_villages(session: Session, query: str, home_unit_id: int | None,
                           limit: int = 8) -> tuple[str, list[OrgUnit]]:
    """Villages to offer when `query` matched none: (why these, the villages) — never empty while any exist.

    An area's villages when the query names a county or town; else the closest names; else the
    villages of the person's own county.
    """
    for region in await find_regions(session, query):
        villages = await villages_under(session, region)
        if villages:
            many = f"（共 {len(villages)} 个，这是前 {limit} 个）" if len(villages) > limit else ""
            return f"「{village_core(region.name)}」下面有这些村/社区{many}", villages[:limit]
    county = await county_villages(session, home_unit_id)
    cores = {village_core(u.name): u for u in county}
    close = difflib.get_close_matches(village_core(query.strip()), list(cores), n=limit, cutoff=0.3)
    if close:
        return "您是说", [cores[c] for c in close]
    return "可以选这些村/社区", county[:limit]
