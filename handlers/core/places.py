"""Villages as people name them: "杨家村" finds "杨家村新时代文明实践站", a near miss gets suggestions.

Registration, wishes, the welcome and the moral day all match or print village names the
same way, so the rule lives here, below every feature.
"""

from __future__ import annotations

import difflib
import re

from storage.db import Session
from storage.models import OrgUnit
from storage.people.network import units_at_levels

# Where people live: a village station, or one of its points.
VILLAGE_LEVELS = ("station", "point")
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
