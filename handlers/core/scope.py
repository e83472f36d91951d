"""Which region an admin means: "统计 蓬莱社区", "导出 工时 DG-HTK-YJ", "后台 城关" — inside their scope only.

A region is named by its code or (part of) its name; the highest-level match inside one of the
asker's admin scopes wins. A match outside every scope is refused politely and audited.
"""

from __future__ import annotations

from handlers.core.context import Context
from handlers.core.permissions import admin_units
from storage.models import OrgUnit
from storage.people.network import units_named


def _depth(unit: OrgUnit) -> int:
    return unit.path.count("/")


async def region_in_scope(ctx: Context, name: str, action: str) -> OrgUnit | None:
    """The admin's region by name or code (their broadest scope when blank); None after replying why not."""
    scopes = sorted(await admin_units(ctx), key=lambda u: (_depth(u), u.code))
    if not scopes:
        ctx.refuse("这项功能只对站长、所长和中心管理员开放。", action)
        return None
    name = name.strip()
    if not name:
        return scopes[0]
    found = sorted(await units_named(ctx.session, name), key=lambda u: (u.code != name, _depth(u), u.code))
    inside = [u for u in found if any(u.path.startswith(sc.path) for sc in scopes)]
    if inside:
        return inside[0]
    if found:
        ctx.refuse(f"「{name}」不在您的管辖范围内，不能查看它的数据。", action, "org_unit", found[0].id)
    else:
        ctx.reply(f"没有找到「{name}」。请写地区的名称或编码，例如：{scopes[0].name}")
    return None
