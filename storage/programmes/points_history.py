"""积分's recent lines: each ledger row with what it came from (a task, an activity, a correction, a redemption).

Kept apart from the ledger's writes (`storage.programmes.points`): reading the history joins
hours, sign-ups, corrections and the shops' goods, none of which a write needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import HoursEntry, OrgUnit
from storage.models.activities import ActivitySignup, HoursCorrection
from storage.models.points import Goods, PointsEntry, Redemption
from storage.programmes.points import HOURS_CORRECTION, HOURS_FROM_ACTIVITY


@dataclass(frozen=True)
class HistoryLine:
    """One ledger row with what it came from, for 积分."""

    at: datetime
    delta: Decimal
    balance_after: Decimal
    source_type: str
    # hours: where they came from ("task", "activity", "activity_correction"), its number and the hours;
    # redemption: the goods name, quantity and the shop's unit name.
    what: str
    ref_id: int | None
    amount: Decimal | int | None
    place: str | None = None


async def history(*, session: AsyncSession, person_id: int, limit: int = 5) -> list[HistoryLine]:
    """A person's most recent ledger rows, newest first, with what each came from."""
    entries = list((await session.execute(
        select(PointsEntry).where(PointsEntry.person_id == person_id)
        .order_by(PointsEntry.id.desc()).limit(limit))).scalars())
    hours_ids = [e.source_id for e in entries if e.source_type == "hours"]
    red_ids = [e.source_id for e in entries if e.source_type == "redemption"]
    hours = {h.id: h for h in (await session.execute(
        select(HoursEntry).where(HoursEntry.id.in_(hours_ids)))).scalars()} if hours_ids else {}
    reds = {r.id: (r, g, u) for r, g, u in (await session.execute(
        select(Redemption, Goods, OrgUnit).join(Goods, Goods.id == Redemption.goods_id)
        .join(OrgUnit, OrgUnit.id == Goods.org_unit_id).where(Redemption.id.in_(red_ids)))).all()} if red_ids else {}
    activity_of = await _activities_of(session, list(hours.values()))
    lines = []
    for e in entries:
        if e.source_type == "hours" and e.source_id in hours:
            h = hours[e.source_id]
            what, ref = activity_of.get(h.id, (h.source_type, h.source_id))
            lines.append(HistoryLine(e.created_at, e.delta, e.balance_after, e.source_type, what, ref, h.hours))
        elif e.source_type == "redemption" and e.source_id in reds:
            r, g, u = reds[e.source_id]
            lines.append(HistoryLine(e.created_at, e.delta, e.balance_after, e.source_type, g.name, r.id,
                                     r.quantity, u.name))
        else:
            lines.append(HistoryLine(e.created_at, e.delta, e.balance_after, e.source_type, e.source_type,
                                     e.source_id, None))
    return lines


async def _activities_of(session: AsyncSession, entries: list[HoursEntry]) -> dict[int, tuple[str, int]]:
    """For hours entries from activities: ("activity", its number), or ("activity_correction", its number).

    A volunteer knows 「活动 #3」, not the sign-up row behind it.
    """
    signups = {h.id: h.source_id for h in entries if h.source_type == HOURS_FROM_ACTIVITY}
    corrections = {h.id: h.source_id for h in entries if h.source_type == HOURS_CORRECTION}
    found: dict[int, tuple[str, int]] = {}
    if signups:
        activity = dict((await session.execute(select(ActivitySignup.id, ActivitySignup.activity_id)
                                                .where(ActivitySignup.id.in_(set(signups.values()))))).all())
        found.update({hid: ("activity", activity[sid]) for hid, sid in signups.items() if sid in activity})
    if corrections:
        corrected = dict((await session.execute(
            select(HoursCorrection.id, ActivitySignup.activity_id)
            .join(ActivitySignup, ActivitySignup.id == HoursCorrection.signup_id)
            .where(HoursCorrection.id.in_(set(corrections.values()))))).all())
        found.update({hid: ("activity_correction", corrected[cid]) for hid, cid in corrections.items()
                      if cid in corrected})
    return found
