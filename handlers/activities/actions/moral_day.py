"""Setting the moral activity day (道德活动日) for a subtree: a rule, off, or follow the unit above.

An admin changes it for their own subtree only: a named region outside it is refused and
audited with its unit. Every change is audited as `moral_day_set` with what it became.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from handlers.core.act import Act, Refused, domain_action
from handlers.core.rights import admin_units
from storage.models import OrgUnit
from storage.people.network import is_within, units_named
from storage.scheduling.recurrence import Recurrence
from storage.scheduling.rules import MORAL_DAY, clear_rule, set_rule


class Switch(enum.Enum):
    """A change that is not a new rule."""

    off = "off"  # no reminders for the subtree
    inherit = "inherit"  # drop the unit's own rule: the one above applies again


@dataclass(frozen=True)
class MoralDayChange:
    """What a unit's moral day became; `changed` is False when it followed the unit above already."""

    unit: OrgUnit
    change: Recurrence | Switch
    changed: bool = True


@dataclass(frozen=True)
class RegionNotFound:
    """No unit has that name or code."""

    region: str


async def _target_unit(act: Act, region: str, scopes: list[OrgUnit]) -> OrgUnit | Refused | RegionNotFound:
    """The unit a change applies to: the named one inside my scope, else my highest admin unit."""
    if not region:
        return min(scopes, key=lambda u: len(u.path))
    found = sorted(await units_named(act.session, region), key=lambda u: u.path)
    inside = [u for u in found if any(is_within(u.path, s.path) for s in scopes)]
    if inside:
        return min(inside, key=lambda u: len(u.path))
    if found:
        return act.refuse("moral_day_set", f"「{region}」不在您管辖的范围内，不能设置它的道德活动日。",
                      "org_unit", found[0].id)
    return RegionNotFound(region)


@domain_action("moral_day_set")
async def set_moral_day(act: Act, *, region: str, change: Recurrence | Switch) -> MoralDayChange | RegionNotFound | Refused:
    """Set, switch off or un-override the moral day of `region` (blank: the actor's broadest unit)."""
    scopes = await admin_units(act)
    if not scopes:
        return act.refuse("moral_day_set", "只有文明实践中心、所、站的管理员可以设置道德活动日。发送「道德日」可以查看。")
    unit = await _target_unit(act, region, scopes)
    if not isinstance(unit, OrgUnit):
        return unit
    if change is Switch.inherit:
        if not await clear_rule(session=act.session, unit_id=unit.id, job=MORAL_DAY):
            return MoralDayChange(unit, change, changed=False)
        act.audit("moral_day_set", "org_unit", unit.id, rule="inherit")
        return MoralDayChange(unit, change)
    recurrence = change if isinstance(change, Recurrence) else None
    await set_rule(session=act.session, unit_id=unit.id, job=MORAL_DAY, recurrence=recurrence, now=act.now,
                   by_person_id=act.actor_id)
    act.audit("moral_day_set", "org_unit", unit.id, rule=recurrence.describe() if recurrence else "off")
    return MoralDayChange(unit, change)
