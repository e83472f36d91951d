"""Cancelling and moving an activity: 取消活动 #3 [原因] · 改期 #3 <新时间>.

A captain of the activity's team, or an admin over it, may do either while the activity is
planned and has not started. Everyone holding a place or a waitlist place is told (the reason,
or the new time), so are the team's other captains when someone else made the change, and every
card the team's groups were sent about it is edited to match ("已取消", or the new time with the
「报名」 button). Reminders follow by themselves: a moved activity is reminded for its new time.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from handlers.activities.actions.signups import project_of
from handlers.activities.texts import activity_card, aref, signup_button, when_text
from handlers.core.act import Act, Refused, domain_action
from handlers.core.messages import Button
from handlers.core.rights import may_lead
from storage.activities import changes
from storage.activities.activities import CANCELLED, SIGNED, roster, waitlist_position
from storage.db import load
from storage.models import Team
from storage.models.activities import Activity
from storage.people.network import captains_of

REASON_MAX = 200


class NotOpen(enum.Enum):
    """Why an activity can no longer be cancelled or moved."""

    started = "started"  # it has begun (or is over)
    cancelled = "cancelled"
    changed = "changed"  # someone else moved it a moment ago


@dataclass(frozen=True)
class Unchangeable:
    """The activity is past changing, and why."""

    why: NotOpen


@dataclass(frozen=True)
class ActivityCancelled:
    """The activity is cancelled: `told` people were told, `cards` group cards edited."""

    activity: Activity
    told: int
    cards: int


@dataclass(frozen=True)
class ActivityMoved:
    """The activity moved from `was` (start, end): `told` people were told, `cards` group cards edited."""

    activity: Activity
    was: tuple[datetime, datetime]
    told: int
    cards: int


@dataclass(frozen=True)
class TimeGone:
    """The new time has already passed; nothing changed."""


@dataclass(frozen=True)
class SameTime:
    """The new time is the time it already has; nothing changed."""


def _closed(activity: Activity, now: datetime) -> Unchangeable | None:
    """Why the activity cannot change any more, if it cannot."""
    if activity.status == CANCELLED:
        return Unchangeable(NotOpen.cancelled)
    if activity.status != "planned" or activity.starts_at <= now:
        return Unchangeable(NotOpen.started)
    return None


async def _team_led(act: Act, activity: Activity, action: str, verb: str) -> Team | Refused:
    """The activity's team when the actor leads it; else the audited refusal."""
    team: Team | None = await load(act.session, Team, activity.team_id)
    if team is None or not await may_lead(act, team):
        return act.refuse(action, f"只有「{team.name if team else '本队'}」的队长或管理员可以{verb}。",
                          "activity", activity.id)
    return team


async def _tell_everyone(act: Act, activity: Activity, team: Team, signed: str,
                         waitlisted: Callable[[int | None], str], captains: str,
                         buttons: dict[str, list[Button]]) -> int:
    """Tell each volunteer with a place (or a waitlist place), then the team's other captains; how many."""
    told: set[int] = {act.actor_id} if act.actor_id is not None else set()
    ref = f"activity:{activity.id}"
    for signup, person in await roster(session=act.session, activity_id=activity.id):
        if person.id in told:
            continue
        if signup.status == SIGNED:
            await act.notify.person(person, signed, buttons.get(SIGNED), ref=ref)
        else:
            position = await waitlist_position(session=act.session, activity_id=activity.id, volunteer_id=person.id)
            await act.notify.person(person, waitlisted(position), buttons.get("waitlisted"), ref=ref)
        told.add(person.id)
    for captain in await captains_of(act.session, team.id):
        if captain.id not in told:
            await act.notify.person(captain, captains, ref=ref)
            told.add(captain.id)
    return len(told - {act.actor_id})


def _by(act: Act) -> str:
    """Who made the change, as the team's captains are told."""
    return act.actor.name if act.actor is not None else "管理员"


@domain_action("activity_cancel")
async def cancel_activity(act: Act, *, activity: Activity,
                          reason: str | None) -> ActivityCancelled | Unchangeable | Refused:
    """Cancel an activity (取消活动 #3 下雨): everyone signed up or waitlisted is told, the group cards say so."""
    team = await _team_led(act, activity, "activity_cancel", "取消活动")
    if isinstance(team, Refused):
        return team
    closed = _closed(activity, act.now)
    if closed is not None:
        return closed
    reason = (reason or "").strip()[:REASON_MAX] or None
    if not await changes.cancel_activity(session=act.session, activity=activity, now=act.now):
        return _closed(activity, act.now) or Unchangeable(NotOpen.changed)
    a, when = f"{aref(activity.id)}【{activity.title}】", when_text(act.tz, activity.starts_at, activity.ends_at)
    why = f"，原因：{reason}" if reason else ""
    told = await _tell_everyone(
        act, activity, team,
        signed=f"很抱歉，{a}（{when}）取消了{why}。您的报名随之取消，不用去了。",
        waitlisted=lambda _position: f"很抱歉，{a}（{when}）取消了{why}。您的候补随之取消。",
        captains=f"您队的{a}（{when}）已由{_by(act)}取消{why}。", buttons={})
    card = activity_card(act.tz, activity, team, await project_of(act, activity), head="❌")
    cards = await act.notify.edit_group_cards(f"activity:{activity.id}", f"{card}\n已取消{why}。")
    act.audit("activity_cancel", "activity", activity.id, reason=reason, told=told, cards=cards)
    return ActivityCancelled(activity, told, cards)


@domain_action("activity_move")
async def move_activity(act: Act, *, activity: Activity, starts_at: datetime,
                        ends_at: datetime) -> ActivityMoved | Unchangeable | TimeGone | SameTime | Refused:
    """Move an activity (改期 #3 明天上午9点): places and waitlist stay, everyone is told, cards show the new time."""
    team = await _team_led(act, activity, "activity_move", "改期")
    if isinstance(team, Refused):
        return team
    closed = _closed(activity, act.now)
    if closed is not None:
        return closed
    if starts_at <= act.now:
        return TimeGone()
    if starts_at == activity.starts_at and ends_at == activity.ends_at:
        return SameTime()
    was = (activity.starts_at, activity.ends_at)
    if not await changes.move_activity(session=act.session, activity=activity, was=was[0], starts_at=starts_at,
                                       ends_at=ends_at, now=act.now):
        return _closed(activity, act.now) or Unchangeable(NotOpen.changed)
    a = f"{aref(activity.id)}【{activity.title}】"
    old, new = when_text(act.tz, *was), when_text(act.tz, activity.starts_at, activity.ends_at)
    moved = f"{a}改期了：\n原定：{old}\n改为：{new}\n地点：{activity.place or '待定'}"
    told = await _tell_everyone(
        act, activity, team,
        signed=f"{moved}\n您的报名保留。新时间去不了请发：取消报名 #{activity.id}",
        waitlisted=lambda position: f"{moved}\n您仍在候补第 {position} 位。不想候补了请发：取消报名 #{activity.id}",
        captains=f"您队的{a}已由{_by(act)}改期：{old} → {new}。",
        buttons={SIGNED: [Button("取消报名", f"取消报名 #{activity.id}")],
                 "waitlisted": [Button("取消候补", f"取消报名 #{activity.id}")]})
    card = activity_card(act.tz, activity, team, await project_of(act, activity))
    cards = await act.notify.edit_group_cards(
        f"activity:{activity.id}", f"{card}\n（已改期，原定 {old}）\n点「报名」或回复：报名 #{activity.id}",
        signup_button(activity.id))
    act.audit("activity_move", "activity", activity.id, was=was[0].isoformat(), to=starts_at.isoformat(),
              told=told, cards=cards)
    return ActivityMoved(activity, was, told, cards)
