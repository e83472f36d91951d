"""The data map's domain actions: a dashboard login link (后台) and a spreadsheet export (导出).

Both hand an admin data of their scope, so both check the scope themselves, refuse in group
chats (a link is a key, an export holds phone numbers) and leave an audit row of who took
what.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from handlers.core.act import Act, Refused, Unreadable, domain_action
from handlers.core.rights import actor_of, admin_units
from handlers.datamap.files import MIME, build_file
from handlers.datamap.regions import RegionNotFound, find_region
from storage.datamap.dashboard_links import LINK_TTL, create_link
from storage.datamap.exports import HEADERS, PhoneRule, export_rows
from storage.models import OrgUnit

KIND_ZH = {"hours": "工时", "tasks": "任务", "volunteers": "志愿者", "activities": "活动"}
CHAT_ROW_LIMIT = 20_000


@dataclass(frozen=True)
class LinkIssued:
    """A one-time dashboard login token for `unit`, valid for `minutes`."""

    unit: OrgUnit
    token: str
    minutes: int


@dataclass(frozen=True)
class Exported:
    """A spreadsheet of `rows` rows (`cut` when the chat limit stopped it), ready to attach."""

    unit: OrgUnit
    kind: str
    period: tuple[date, date]
    data: bytes
    rows: int
    cut: bool
    filename: str
    mime: str


@domain_action("dashboard_link")
async def issue_dashboard_link(act: Act, *, region: str, private: bool) -> LinkIssued | Refused | RegionNotFound:
    """Make a one-time link to the dashboard of the admin's scope, or of a region inside it."""
    actor = actor_of(act)
    if not private:
        return act.refuse("dashboard_link", "后台登录链接只能私聊发送，请私聊我发「后台」。", region=region or None)
    unit = await find_region(act, region, "dashboard_link")
    if not isinstance(unit, OrgUnit):
        return unit
    token = await create_link(session=act.session, person_id=actor.id, org_unit_id=unit.id, now=act.now)
    act.audit("dashboard_link", "org_unit", unit.id)
    return LinkIssued(unit, token, int(LINK_TTL.total_seconds() // 60))


@domain_action("export")
async def export_sheet(act: Act, *, kind: str, region: str, period: tuple[date, date] | None, fmt: str,
                       private: bool) -> Exported | Refused | Unreadable | RegionNotFound:
    """Build an admin's spreadsheet of hours, tasks, volunteers or activities (`period` None: unreadable)."""
    if not private:
        return act.refuse("export", "导出的表格里有联系方式，只能私聊发送。请私聊我发「导出」。", kind=kind,
                      region=region or None)
    if period is None or period[0] > period[1]:
        return Unreadable()
    unit = await find_region(act, region, "export")
    if not isinstance(unit, OrgUnit):
        return unit
    # Phones of people whose home lies in one of the asker's scopes; task contacts of tasks in this region.
    phones = PhoneRule(home_scopes=tuple(u.path for u in await admin_units(act)), task_contacts=True)
    rows = export_rows(act.session, kind, unit, period[0], period[1], phones)
    title = f"{KIND_ZH[kind]} {period[0]}~{period[1]}"
    data, count, cut = await build_file(rows, HEADERS[kind], fmt, title=title, limit=CHAT_ROW_LIMIT)
    act.audit("export", "org_unit", unit.id, kind=kind, rows=count, date_from=str(period[0]), date_to=str(period[1]))
    return Exported(unit, kind, period, data, count, cut,
                    filename=f"{KIND_ZH[kind]}_{unit.name}_{period[0]}至{period[1]}.{fmt}", mime=MIME[fmt])
