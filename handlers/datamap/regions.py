"""Which region an admin means: "统计 蓬莱社区", "导出 工时 DG-HTK-YJ", "后台 城关" — inside their scope only.

A region is named by its code or (part of) its name; the highest-level match inside one of the
asker's admin scopes wins, and a blank name means their broadest scope. A match outside every
scope is refused and audited with the unit as its target; a name matching nothing is no
refusal, only a hint.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.core.act import Act, Refused
from handlers.core.rights import admin_units
from storage.models import OrgUnit
from storage.people.network import units_named

ADMINS_ONLY = "这项功能只对站长、所长和中心管理员开放。"


@dataclass(frozen=True)
class RegionNotFound:
    """No unit has that name or code; `example` is one the asker may use."""

    name: str
    example: str

    @property
    def text(self) -> str:
        """The hint the asker gets."""
        return f"没有找到「{self.name}」。请写地区的名称或编码，例如：{self.example}"


def _depth(unit: OrgUnit) -> int:
    """How far down the tree a unit sits (a county above its villages)."""
    return unit.path.count("/")


async def scopes_broadest_first(act: Act) -> list[OrgUnit]:
    """The actor's admin scopes, broadest first (a blank region name means the first)."""
    return sorted(await admin_units(act), key=lambda u: (_depth(u), u.code))


async def find_region(act: Act, name: str, action: str) -> OrgUnit | Refused | RegionNotFound:
    """The admin's region by name or code; a refusal (audited as `action`) outside their scope."""
    scopes = await scopes_broadest_first(act)
    if not scopes:
        return act.refuse(action, ADMINS_ONLY, region=name.strip() or None)
    name = name.strip()
    if not name:
        return scopes[0]
    found = sorted(await units_named(act.session, name), key=lambda u: (u.code != name, _depth(u), u.code))
    inside = [u for u in found if any(u.path.startswith(sc.path) for sc in scopes)]
    if inside:
        return inside[0]
    if found:
        return act.refuse(action, f"「{name}」不在您的管辖范围内，不能查看它的数据。", "org_unit", found[0].id)
    return RegionNotFound(name, scopes[0].name)
