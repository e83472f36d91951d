"""`xinfeng grant PHONE ROLE SCOPE`: one role for one person, as a row of roles.csv would give it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.models import LEVEL_ZH, OrgUnit, Person, RoleGrant, Team
from storage.roster.files import (
    ROLE_ZH,
    RowError,
    check_role_level,
    parse_code,
    parse_phone,
    parse_role,
)
from storage.roster.lookups import by_code


async def grant_role(*, session: AsyncSession, phone: str, role: str, scope_code: str, now: datetime) -> str:
    """Grant one role to the person with `phone` (`xinfeng grant`); the caller commits."""
    try:
        phone, role = parse_phone(phone), parse_role(role)
        scope_code = parse_code(scope_code, "范围编码")
    except RowError as exc:
        raise ValueError(str(exc)) from None
    person = (await session.execute(select(Person).where(Person.phone == phone))).scalar_one_or_none()
    if person is None:
        raise ValueError(f"没有手机号为 {phone} 的人：请先导入（志愿者或居民名单）")
    team = (await by_code(session, Team, [scope_code])).get(scope_code)
    unit = (await by_code(session, OrgUnit, [scope_code])).get(scope_code)
    if role == "captain":
        if team is None:
            why = "是单位" if unit is not None else "不是队伍编码"
            raise ValueError(f"队长的范围要填队伍编码，“{scope_code}”{why}")
        label, scope_name = ROLE_ZH[role], team.name
    else:
        if unit is None:
            why = "是队伍" if team is not None else "不是单位编码"
            raise ValueError(f"{ROLE_ZH[role]}的范围要填单位编码，“{scope_code}”{why}")
        try:
            check_role_level(role, unit.level)
        except RowError as exc:
            raise ValueError(str(exc)) from None
        label, scope_name = _role_label(role, unit.level), unit.name
    team_id = team.id if role == "captain" and team is not None else None
    unit_id = unit.id if role != "captain" and unit is not None else None
    existing = (await session.execute(select(RoleGrant.id).where(
        RoleGrant.person_id == person.id, RoleGrant.role == role,
        RoleGrant.team_id.is_(None) if team_id is None else RoleGrant.team_id == team_id,
        RoleGrant.org_unit_id.is_(None) if unit_id is None else RoleGrant.org_unit_id == unit_id,
    ))).first()
    if existing is None:
        session.add(RoleGrant(person_id=person.id, role=role, org_unit_id=unit_id, team_id=team_id))
    audit.record(session, at=now, actor_id=None, action="grant", target_type="person", target_id=person.id,
                 role=role, scope=scope_code, already=existing is not None, via="cli")
    await session.flush()
    who = f"{person.name} ({phone})"
    if existing is not None:
        return f"{who} is already {role} ({label}) of {scope_name} [{scope_code}]; nothing changed."
    return f"{who} is now {role} ({label}) of {scope_name} [{scope_code}]."


def _role_label(role: str, level: str) -> str:
    # An admin's title follows the level of its unit: 站长, 所长, 中心管理员.
    if role == "admin":
        return {"station": "站长", "institute": "所长"}.get(level, f"{LEVEL_ZH[level]}管理员")
    return ROLE_ZH[role]
