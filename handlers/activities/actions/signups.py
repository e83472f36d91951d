"""Publishing an activity and taking places in it: 活动 (confirmed), 报名, 取消报名.

Each action checks who may do it, changes the activity through storage (places are taken
under the activity's lock, so capacity holds under any load), tells everyone concerned —
the team when an activity is published, the promoted volunteer when a place frees up — and
writes its audit row, all in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handlers.activities.texts import activity_card, aref, signup_button, when_text
from handlers.core.act import Act, Refused, domain_action
from handlers.core.messages import Button
from handlers.core.rights import admin_units, captained_team_ids, may_lead
from storage.activities import activities as rows
from storage.activities.activities import CancelResult, SignupOutcome, SignupResult
from storage.db import load
from storage.models import Person, Team
from storage.models.activities import Activity, Project
from storage.people.network import team_ids_of


@dataclass(frozen=True)
class ActivityPlan:
    """What a captain confirmed: the activity to publish."""

    title: str
    starts_at: datetime
    ends_at: datetime
    place: str | None = None
    capacity: int | None = None
    project_id: int | None = None
    location: tuple[float, float] | None = None
    radius_m: int | None = None


@dataclass(frozen=True)
class Published:
    """The activity is out: `reached` group chats and members were sent its card."""

    activity: Activity
    team: Team
    reached: int


@dataclass(frozen=True)
class AlreadyStarted:
    """The confirmed time has passed meanwhile; nothing was published."""


@dataclass(frozen=True)
class Cancelled:
    """How a cancellation ended, and who took the freed place."""

    result: CancelResult
    promoted: Person | None = None


async def project_of(act: Act, activity: Activity) -> Project | None:
    """The project an activity belongs to, if any."""
    return await load(act.session, Project, activity.project_id)


@domain_action("activity_create")
async def create_activity(act: Act, *, team: Team, plan: ActivityPlan) -> Published | AlreadyStarted | Refused:
    """Publish an activity for a team its actor leads, and send its card with a 「报名」 button to the team."""
    if not await may_lead(act, team):
        return act.refuse("activity_create", "只有本队队长或管理员可以发布活动。", "team", team.id)
    if plan.starts_at <= act.now:
        return AlreadyStarted()
    activity = await rows.create_activity(
        session=act.session, team_id=team.id, org_unit_id=team.org_unit_id, title=plan.title,
        starts_at=plan.starts_at, ends_at=plan.ends_at, now=act.now, created_by_id=act.actor_id,
        place=plan.place, capacity=plan.capacity, project_id=plan.project_id,
        location=plan.location, checkin_radius_m=plan.radius_m,
    )
    act.audit("activity_create", "activity", activity.id, team_id=team.id, capacity=activity.capacity)
    card = activity_card(act.tz, activity, team, await project_of(act, activity))
    reached = await act.notify.team(team, card + f"\n点「报名」或回复：报名 #{activity.id}", signup_button(activity.id),
                                    ref=f"activity:{activity.id}",
                                    exclude_person_ids={act.actor_id} if act.actor_id else None)
    return Published(activity, team, reached)


@domain_action("signup")
async def sign_up(act: Act, *, activity: Activity) -> SignupOutcome | Refused:
    """Take a place in an activity (报名), or the next place in its waitlist when it is full."""
    if act.actor is None or not await may_sign_up(act):
        return act.refuse("signup", "报名活动要先加入志愿服务队：发送「加入 邀请码」（邀请码请向队长要）。",
                      "activity", activity.id)
    outcome = await rows.sign_up(session=act.session, activity_id=activity.id, volunteer_id=act.actor.id, now=act.now)
    if outcome.result in (SignupResult.signed, SignupResult.waitlisted):
        act.audit("signup", "activity", activity.id, result=outcome.result.value, position=outcome.position)
    return outcome


@domain_action("signup_cancel")
async def cancel_signup(act: Act, *, activity: Activity) -> Cancelled:
    """Give up a place (取消报名); the first of the waitlist takes it and is told at once."""
    assert act.actor is not None, "only a person gives up their place"
    outcome = await rows.cancel_signup(session=act.session, activity_id=activity.id, volunteer_id=act.actor.id,
                                       now=act.now)
    if outcome.result in (CancelResult.closed, CancelResult.not_signed):
        return Cancelled(outcome.result)
    act.audit("signup_cancel", "activity", activity.id, result=outcome.result.value,
              promoted=outcome.promoted_volunteer_id)
    promoted: Person | None = await load(act.session, Person, outcome.promoted_volunteer_id)
    if promoted is not None:
        act.audit("signup_promote", "activity", activity.id, volunteer_id=promoted.id)
        await act.notify.person(
            promoted,
            f"好消息！有人让出了名额，您已从候补转为{aref(activity.id)}【{activity.title}】的正式报名。\n"
            f"时间：{when_text(act.tz, activity.starts_at, activity.ends_at)}\n地点：{activity.place or '待定'}\n"
            f"去不了请发：取消报名 #{activity.id}",
            [Button("取消报名", f"取消报名 #{activity.id}")], ref=f"activity:{activity.id}")
    return Cancelled(outcome.result, promoted)


async def may_sign_up(act: Act) -> bool:
    """Whether the actor may take part in activities: a volunteer, a team member, or someone who leads."""
    if act.actor is None:
        return False
    if act.actor.is_volunteer or await team_ids_of(act.session, act.actor.id):
        return True
    return bool(await captained_team_ids(act)) or bool(await admin_units(act))
