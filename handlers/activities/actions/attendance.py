"""Attendance and the hours it earns: 签到, 签退, 核时 (and its correction), 撤销缺席, and the no-show sweep.

Volunteers check themselves in and out; the activity's captain (or an admin over its team)
verifies hours — which only then reach the ledger, and the volunteer is told — corrects them
afterwards (a ledger row for the difference; points follow), and undoes a no-show. The
scheduler marks no-shows through `mark_no_shows` with no actor and tells the captains. Refusals (a wrong code, someone else's activity) are audited and change nothing.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from handlers.activities.texts import aref
from handlers.core.act import Act, Refused, domain_action
from handlers.core.rights import may_lead
from handlers.core.texts import hours_text
from handlers.programmes.cards import points_text
from storage.activities import attendance as ledger
from storage.activities import corrections
from storage.activities.activities import CENT, roster
from storage.activities.attendance import CheckOutcome, CheckResult, length_hours
from storage.activities.corrections import Corrected
from storage.db import load
from storage.models import Person, Team
from storage.models.activities import Activity, ActivitySignup
from storage.people.network import captains_of
from storage.tasks.hours import hours_on_day

# Refused check-ins worth auditing: someone guessing codes (or locked out for it), or checking in from afar.
_SUSPECT = (CheckResult.wrong_code, CheckResult.too_far, CheckResult.locked)


class Verdict(enum.Enum):
    """How verifying one person's hours ended."""

    verified = "verified"
    not_listed = "not_listed"  # no signed place of that name
    already = "already"  # verified before; `hours` says how much
    no_show = "no_show"  # marked absent: undo that first
    needs_hours = "needs_hours"  # never checked out, and the captain gave no hours
    over_cap = "over_cap"  # more than the activity's length (`hours` is the cap)
    not_started = "not_started"
    failed = "failed"  # verified (or corrected) by someone else a moment ago
    unchanged = "unchanged"  # a correction to the hours already verified
    over_daily_cap = "over_daily_cap"  # past the day's cap with other services: `hours` is what is left


@dataclass(frozen=True)
class HoursVerdict:
    """One person's verification: the verdict, and the hours it is about."""

    verdict: Verdict
    hours: Decimal | None = None


@dataclass(frozen=True)
class HoursCorrected:
    """Verified hours corrected: whose, and how the hours and points moved."""

    person: Person
    corrected: Corrected


@dataclass(frozen=True)
class BatchVerdict:
    """Verifying everyone checked out: who was credited how much, who still has no hours, who is past the day's cap."""

    done: list[tuple[str, Decimal]] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    over_cap: list[str] = field(default_factory=list)


async def _day_left(act: Act, activity: Activity, signup: ActivitySignup) -> Decimal:
    """What a volunteer may still be credited for the activity's day under the daily cap (other services counted)."""
    at = signup.checkin_at or activity.starts_at
    claimed = await hours_on_day(act.session, volunteer_id=signup.volunteer_id, at=at, tz=act.tz,
                                 excluding_signup_id=signup.id)
    return max(Decimal(0), act.daily_cap - claimed)


async def _team_led(act: Act, activity: Activity, action: str, verb: str) -> Team | Refused:
    """The activity's team when the actor leads it; else the audited refusal."""
    team: Team | None = await load(act.session, Team, activity.team_id)
    if team is None or not await may_lead(act, team):
        return act.refuse(action, f"只有「{team.name if team else '本队'}」的队长或管理员可以{verb}。",
                      "activity", activity.id)
    return team


@domain_action("checkin")
async def check_in(act: Act, *, activity: Activity, code: str | None,
                   location: tuple[float, float] | None) -> CheckOutcome:
    """Check the actor in with the code shown on site, or a shared location near the activity."""
    assert act.actor is not None, "only a person checks in"
    outcome = await ledger.check_in(session=act.session, activity_id=activity.id, volunteer_id=act.actor.id,
                                    now=act.now, code=code, location=location)
    if outcome.result in _SUSPECT:
        until = outcome.locked_until.isoformat() if outcome.locked_until is not None else None
        act.audit("checkin", "activity", activity.id, outcome="refused", reason=outcome.result.value,
                  left=outcome.left, locked_until=until)
    elif outcome.result is CheckResult.ok:
        act.audit("checkin", "activity", activity.id, by="location" if location else "code")
    return outcome


@domain_action("checkout")
async def check_out(act: Act, *, activity: Activity) -> CheckOutcome:
    """Check the actor out: the hours since check-in, capped at the activity's length, await the captain."""
    assert act.actor is not None, "only a person checks out"
    outcome = await ledger.check_out(session=act.session, activity_id=activity.id, volunteer_id=act.actor.id,
                                     now=act.now)
    if outcome.result is CheckResult.ok:
        act.audit("checkout", "activity", activity.id, hours=str(outcome.hours))
    return outcome


async def _credit(act: Act, activity: Activity, signup: ActivitySignup, person: Person, hours: Decimal) -> bool:
    """Verify one sign-up's hours into the ledger, audit it and tell the volunteer; False if it was done already."""
    hours = hours.quantize(Decimal("0.01"))
    if not await ledger.verify_hours(session=act.session, signup_id=signup.id, hours=hours, by_id=act.actor_id,
                                     now=act.now):
        return False
    act.audit("verify_hours", "activity", activity.id, volunteer_id=person.id, hours=str(hours),
              corrected=None if signup.hours is None or Decimal(signup.hours) == hours else str(signup.hours))
    by = act.actor.name if act.actor is not None else "队长"
    await act.notify.person(person, f"您在{aref(activity.id)}【{activity.title}】的 {hours_text(hours)} 小时志愿时长已由"
                                    f"{by}核定，计入您的志愿时长。谢谢您！", ref=f"activity:{activity.id}")
    return True


@domain_action("verify_hours")
async def verify_hours(act: Act, *, activity: Activity, name: str, hours: Decimal | None,
                       past_cap: bool = False) -> HoursVerdict | Refused:
    """Verify one person's hours (核时 #3 张三 2小时): as given, or as checked out when none are given.

    Hours that would take the volunteer's day past the daily cap need `past_cap` — the leader's
    explicit word (核时 … 超时确认) — and leave an `hours_over_cap` audit row beside the verification.
    """
    team = await _team_led(act, activity, "verify_hours", "核时")
    if isinstance(team, Refused):
        return team
    match = [(s, p) for s, p in await roster(session=act.session, activity_id=activity.id)
             if p.name == name and s.status == "signed"]
    if not match:
        return HoursVerdict(Verdict.not_listed)
    signup, person = match[0]
    if signup.verified:
        return HoursVerdict(Verdict.already, signup.hours)
    if signup.no_show:
        return HoursVerdict(Verdict.no_show)
    if hours is None:
        if not signup.hours or Decimal(signup.hours) <= 0:
            return HoursVerdict(Verdict.needs_hours)
        hours = Decimal(signup.hours)
    cap = length_hours(activity)
    if hours > cap:
        return HoursVerdict(Verdict.over_cap, cap)
    if signup.checkin_at is None and activity.starts_at > act.now:
        return HoursVerdict(Verdict.not_started)
    left = await _day_left(act, activity, signup)
    if hours > left and not past_cap:
        return HoursVerdict(Verdict.over_daily_cap, left)
    if not await _credit(act, activity, signup, person, hours):
        return HoursVerdict(Verdict.failed)
    if hours > left:
        act.audit("hours_over_cap", "activity", activity.id, volunteer_id=person.id, hours=str(hours),
                  left_that_day=str(left), cap=str(act.daily_cap))
    return HoursVerdict(Verdict.verified, hours)


@domain_action("hours_correct")
async def correct_hours(act: Act, *, activity: Activity, name: str, hours: Decimal,
                        past_cap: bool = False) -> HoursCorrected | HoursVerdict | Refused:
    """Correct hours already verified (核时 #3 张三 3小时 again): the ledger and points follow the difference."""
    team = await _team_led(act, activity, "hours_correct", "更正时长")
    if isinstance(team, Refused):
        return team
    match = [(s, p) for s, p in await roster(session=act.session, activity_id=activity.id)
             if p.name == name and s.status == "signed"]
    if not match:
        return HoursVerdict(Verdict.not_listed)
    signup, person = match[0]
    if not signup.verified or signup.hours is None:
        return HoursVerdict(Verdict.failed)
    before, hours = Decimal(signup.hours).quantize(CENT), hours.quantize(CENT)
    cap = length_hours(activity)
    if hours > cap:
        return HoursVerdict(Verdict.over_cap, cap)
    if hours == before:
        return HoursVerdict(Verdict.unchanged, before)
    left = await _day_left(act, activity, signup)
    if hours > left and not past_cap:
        return HoursVerdict(Verdict.over_daily_cap, left)
    corrected = await corrections.correct_hours(session=act.session, signup_id=signup.id, before=before,
                                                hours=hours, by_id=act.actor_id, now=act.now)
    if corrected is None:
        return HoursVerdict(Verdict.failed)
    act.audit("hours_correct", "activity", activity.id, volunteer_id=person.id, before=str(corrected.before),
              after=str(corrected.after), points_due=str(corrected.points_due),
              points_applied=str(corrected.points_applied), points_owed=str(corrected.points_owed))
    if hours > left:
        act.audit("hours_over_cap", "activity", activity.id, volunteer_id=person.id, hours=str(hours),
                  left_that_day=str(left), cap=str(act.daily_cap))
    by = act.actor.name if act.actor is not None else "队长"
    await act.notify.person(person, f"您在{aref(activity.id)}【{activity.title}】的志愿时长已由{by}从 "
                                    f"{hours_text(corrected.before)} 小时更正为 {hours_text(corrected.after)} 小时"
                                    f"{points_change_text(corrected)}", ref=f"activity:{activity.id}")
    return HoursCorrected(person, corrected)


def points_change_text(corrected: Corrected) -> str:
    """How a correction moved the volunteer's points, said to them (and to the captain)."""
    applied, owed = corrected.points_applied, corrected.points_owed
    if owed > 0:  # the balance ran out: what was spent cannot be taken back
        return (f"。积分应扣回 {points_text(owed - applied)}，已用掉的扣不回，实扣 {points_text(-applied)}"
                f"（积分不会扣成负数）。")
    settled = corrected.points_due - applied  # points an earlier correction could not take back, settled now
    if settled > 0:
        change = f"积分 +{points_text(applied)}" if applied > 0 else (
            f"积分 {points_text(applied)}" if applied < 0 else "积分不变")
        return f"，{change}（上次没能扣回的 {points_text(settled)} 积分在这次抵扣）。"
    if applied > 0:
        return f"，积分 +{points_text(applied)}。"
    if applied < 0:
        return f"，积分 {points_text(applied)}。"
    return "。"


async def verify_all_hours(act: Act, *, activity: Activity) -> BatchVerdict | Refused:
    """Verify everyone who checked out (核时 #3 全部); each credit is audited as `verify_hours`."""
    team = await _team_led(act, activity, "verify_hours", "核时")
    if isinstance(team, Refused):
        return team
    batch = BatchVerdict()
    for signup, person in await roster(session=act.session, activity_id=activity.id):
        if signup.status != "signed" or signup.verified or signup.no_show:
            continue
        if signup.checkout_at is None or not signup.hours or Decimal(signup.hours) <= 0:
            batch.waiting.append(person.name)
            continue
        if Decimal(signup.hours) > await _day_left(act, activity, signup):
            batch.over_cap.append(person.name)  # only one by one, with the leader's explicit word
            continue
        if await _credit(act, activity, signup, person, Decimal(signup.hours)):
            batch.done.append((person.name, Decimal(signup.hours)))
    return batch


@domain_action("undo_no_show")
async def undo_no_show(act: Act, *, activity: Activity, name: str) -> bool | Refused:
    """Clear a no-show (撤销缺席 #3 张三) and tell the volunteer; False when they were not marked absent."""
    team = await _team_led(act, activity, "undo_no_show", "撤销缺席")
    if isinstance(team, Refused):
        return team
    match = [p for _s, p in await roster(session=act.session, activity_id=activity.id) if p.name == name]
    if not match or not await ledger.undo_no_show(session=act.session, activity_id=activity.id,
                                                  volunteer_id=match[0].id):
        return False
    act.audit("undo_no_show", "activity", activity.id, volunteer_id=match[0].id)
    by = act.actor.name if act.actor is not None else "队长"
    await act.notify.person(match[0], f"{by}撤销了您在{aref(activity.id)}【{activity.title}】的缺席记录。")
    return True


@domain_action("no_show")
async def mark_no_shows(act: Act) -> int:
    """Mark everyone not checked in by start + 30 min as absent and tell each activity's captains; idempotent."""
    marked = await ledger.mark_no_shows(session=act.session, now=act.now)
    by_activity: dict[int, list[int]] = defaultdict(list)
    for activity_id, volunteer_id in marked:
        by_activity[activity_id].append(volunteer_id)
    for activity_id, volunteer_ids in by_activity.items():
        activity: Activity | None = await load(act.session, Activity, activity_id)
        if activity is None:
            continue
        people = [await load(act.session, Person, v) for v in volunteer_ids]
        for volunteer_id in volunteer_ids:
            act.audit("no_show", "activity", activity_id, volunteer_id=volunteer_id)
        text = (f"{aref(activity_id)}【{activity.title}】开始 30 分钟仍未签到，已记为缺席："
                f"{'、'.join(p.name for p in people if p is not None)}。"
                f"如果有误（人来了但忘了签到），请发：撤销缺席 #{activity_id} 姓名")
        for captain in await captains_of(act.session, activity.team_id):
            await act.notify.person(captain, text, ref=f"activity:{activity_id}")
    return len(marked)
