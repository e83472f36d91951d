"""Wish actions (微心愿): submit → publish → claim → fulfil → confirm (PRODUCT.md §5).

Each step checks who may take it, moves the wish by one conditional UPDATE
(`storage.programmes.wishes`), tells everyone involved and writes its audit row. A step that
finds the wish elsewhere in its life (`NotOpen`) changes nothing and records nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from handlers.core.act import Act, Refused, Unreadable, domain_action
from handlers.core.messages import Button
from handlers.core.places import VILLAGE_LEVELS, find_villages
from handlers.core.rights import actor_of, granted_over, granted_units, in_a_team, member_team_ids
from handlers.programmes.cards import wish_card, wish_ref
from storage.db import load
from storage.models import OrgUnit, Person, Team
from storage.models.wishes import Wish, WishStatus
from storage.people.network import ancestors, get_unit, teams_at_units, teams_by_ids, units_by_ids
from storage.programmes import wishes as store
from storage.programmes.wishes import (
    ClaimResult,
    federation_admins_over,
    team_member_ids,
    wish_by_id,
)

MAX_DESCRIPTION = 2000


@dataclass(frozen=True)
class VillageNeeded:
    """The submitter's scope holds several villages: they must name one first."""


@dataclass(frozen=True)
class Submitted:
    """A wish recorded for `unit`; `federation_told` says whether any federation admin was told."""

    wish: Wish
    unit: OrgUnit
    federation_told: bool


@dataclass(frozen=True)
class NotOpen:
    """The wish is not at the step this action needs; `status` is where it is."""

    status: str


@dataclass(frozen=True)
class Published:
    """A wish published to the `teams` nearest its village, in `sent` notifications."""

    wish: Wish
    teams: list[Team]
    sent: int


@dataclass(frozen=True)
class Claimed:
    """The actor won the wish."""

    wish: Wish


@dataclass(frozen=True)
class AlreadyClaimed:
    """The actor had already claimed it."""


@dataclass(frozen=True)
class Taken:
    """Another volunteer claimed it first."""


@dataclass(frozen=True)
class ProofNeeded:
    """The claimant reported it fulfilled without a photo or text proof."""


@dataclass(frozen=True)
class Fulfilled:
    """The claimant reported it fulfilled, with proof; the village is asked to confirm."""

    wish: Wish


@dataclass(frozen=True)
class Confirmed:
    """The village confirmed the household got it."""

    wish: Wish


async def _tell(act: Act, person_ids: Sequence[int | None], text: str, buttons: list[Button] | None = None,
                ref: str | None = None) -> None:
    """Tell each of these people once, never the actor (who gets the reply)."""
    for pid in dict.fromkeys(p for p in person_ids if p is not None and p != act.actor_id):
        person = await load(act.session, Person, pid)
        if person is not None:
            await act.notify.person(person, text, buttons, ref)


async def _submit_scope(act: Act, stations: list[OrgUnit], scopes: list[OrgUnit],
                        words: list[str]) -> tuple[OrgUnit | None, list[str]]:
    """The village a wish is for, and the words left: secretaries and station admins need no village."""
    if stations:
        return stations[0], words
    for scope in scopes:
        if scope.level in VILLAGE_LEVELS:
            return scope, words
    if scopes and len(words) >= 3:
        hits, _ = await find_villages(act.session, words[0])
        inside = [u for u in hits if any(u.path.startswith(s.path) for s in scopes)]
        if len(inside) == 1:
            return inside[0], words[1:]
    return None, words


@domain_action("wish_submit")
async def submit_wish(act: Act, words: list[str]) -> Submitted | Refused | VillageNeeded | Unreadable:
    """Record a household's wish from "[村] 户 内容", for the federation to publish."""
    actor = actor_of(act)
    stations, scopes = await granted_units(act, "first_secretary"), await granted_units(act, "admin")
    if not stations and not scopes:
        return act.refuse("wish_submit", "只有驻村第一书记或管理员可以代群众提交微心愿。",
                      request=" ".join(words)[:200] or None)
    unit, words = await _submit_scope(act, stations, scopes, words)
    if unit is None:
        return VillageNeeded()
    if len(words) < 2 or len(words[0]) > 100:
        return Unreadable()
    household, description = words[0], " ".join(words[1:])
    wish = await store.submit_wish(session=act.session, org_unit_id=unit.id, household=household,
                                   description=description[:MAX_DESCRIPTION], submitted_by_id=actor.id, now=act.now)
    act.audit("wish_submit", "wish", wish.id, org_unit_id=unit.id)
    admins = await federation_admins_over(session=act.session, unit=unit)
    card = await wish_card(act.session, wish)
    for admin in admins:
        await act.notify.person(admin, f"新的微心愿待发布：\n{card}\n提交人：{actor.name}",
                                [Button("发布", f"发布心愿 #{wish.id}")], ref=f"wish:{wish.id}")
    return Submitted(wish, unit, bool(admins))


async def _publish_targets(act: Act, unit: OrgUnit) -> list[Team]:
    """The teams nearest the village: its own, else the first level above that has any."""
    for level_unit in await ancestors(act.session, unit):
        teams = await teams_at_units(act.session, [level_unit.id])
        if teams:
            return teams
    return []


@domain_action("wish_publish")
async def publish_wish(act: Act, wish: Wish) -> Published | Refused | NotOpen:
    """Publish a submitted wish to the volunteer teams nearest its village (its federation admins only)."""
    actor = actor_of(act)
    unit = await get_unit(act.session, wish.org_unit_id)
    admins = await federation_admins_over(session=act.session, unit=unit) if unit else []
    if unit is None or actor.id not in {a.id for a in admins}:
        return act.refuse("wish_publish", "只有负责这个村的志愿服务联合会管理员可以发布微心愿。", "wish", wish.id)
    if not await store.publish_wish(session=act.session, wish_id=wish.id, by_id=actor.id, now=act.now):
        return NotOpen(wish.status)
    wish = await wish_by_id(session=act.session, wish_id=wish.id) or wish
    act.audit("wish_publish", "wish", wish.id)
    card = await wish_card(act.session, wish)
    teams = await _publish_targets(act, unit)
    told: set[int] = {actor.id}
    sent = 0
    for team in teams:
        # A volunteer in two of these teams hears it once.
        sent += await act.notify.team(team, f"🎁 新的微心愿，等您认领：\n{card}\n点「认领」或回复：认领 #{wish.id}",
                                      [Button("认领", f"认领 #{wish.id}")], ref=f"wish:{wish.id}",
                                      exclude_person_ids=set(told))
        told |= await team_member_ids(session=act.session, team_id=team.id)
    await _tell(act, [wish.submitted_by_id], f"您提交的{wish_ref(wish.id)}（{wish.household}）已发布，等待志愿者认领。")
    return Published(wish, teams, sent)


async def _volunteer_regions(act: Act) -> list[OrgUnit]:
    """Where a volunteer's wishes come from: the county (center) of their home and of each of their teams."""
    actor = actor_of(act)
    unit_ids = [actor.org_unit_id] if actor.org_unit_id is not None else []
    unit_ids += [t.org_unit_id for t in await teams_by_ids(act.session, sorted(await member_team_ids(act)))]
    regions: dict[int, OrgUnit] = {}
    for unit in await units_by_ids(act.session, list(dict.fromkeys(unit_ids))):
        chain = await ancestors(act.session, unit)
        county = next((u for u in chain if u.level == "center"), unit)
        regions[county.id] = county
    return list(regions.values())


async def may_see_wish(act: Act, wish: Wish) -> bool:
    """Whether the actor may see a wish (docs/roles.md).

    Those who handled it, the admins, first secretaries and federation admins over its village
    see it at every step, and so does the household itself (a resident of that village by that
    name, with a phone on record — a roster person, not a display name); a volunteer sees a
    published wish of their own county (their home's or a team's) — never one still waiting to
    be published, nor one from another city.
    """
    actor = actor_of(act)
    if actor.id in (wish.submitted_by_id, wish.claimed_by_id, wish.published_by_id):
        return True
    if actor.name == wish.household and actor.org_unit_id == wish.org_unit_id and actor.phone:
        return True
    unit = await get_unit(act.session, wish.org_unit_id)
    if unit is None:
        return False
    for role in ("admin", "first_secretary", "federation_admin"):
        if await granted_over(act, role, unit) is not None:
            return True
    if wish.status != WishStatus.published.value or not (actor.is_volunteer or await in_a_team(act)):
        return False
    return any(unit.path.startswith(region.path) for region in await _volunteer_regions(act))


@domain_action("wish_claim")
async def claim_wish(act: Act, wish: Wish) -> Claimed | Refused | AlreadyClaimed | Taken | NotOpen:
    """Claim a published wish of the volunteer's county: exactly one volunteer wins it."""
    actor = actor_of(act)
    if not (actor.is_volunteer or await in_a_team(act)):
        return act.refuse("wish_claim", "只有注册的志愿者可以认领微心愿。加入志愿服务队后就可以认领了。", "wish", wish.id)
    if wish.status == WishStatus.published.value and not await may_see_wish(act, wish):
        return act.refuse("wish_claim", f"{wish_ref(wish.id)} 不是您所在县市的微心愿，请认领本地发布的心愿。", "wish", wish.id)
    result = await store.claim_wish(session=act.session, wish_id=wish.id, volunteer_id=actor.id, now=act.now)
    if result is ClaimResult.already:
        return AlreadyClaimed()
    if result is ClaimResult.taken:
        act.audit("wish_claim", "wish", wish.id, outcome="taken")
        return Taken()
    if result is ClaimResult.not_open:
        return NotOpen(wish.status)
    wish = await wish_by_id(session=act.session, wish_id=wish.id) or wish
    act.audit("wish_claim", "wish", wish.id)
    await _tell(act, [wish.submitted_by_id, wish.published_by_id],
                f"{wish_ref(wish.id)}（{wish.household}）已由志愿者 {actor.name} 认领。")
    return Claimed(wish)


@domain_action("wish_fulfil")
async def fulfil_wish(act: Act, wish: Wish, proof: list[dict[str, Any]]) -> Fulfilled | Refused | ProofNeeded | NotOpen:
    """Report a claimed wish fulfilled, with photos or a text as proof (its claimant only)."""
    actor = actor_of(act)
    if wish.claimed_by_id != actor.id:
        return act.refuse("wish_fulfil", f"只有认领了{wish_ref(wish.id)}的志愿者可以报告实现。", "wish", wish.id)
    if not proof:
        return ProofNeeded() if wish.status == WishStatus.claimed.value else NotOpen(wish.status)
    if not await store.fulfil_wish(session=act.session, wish_id=wish.id, volunteer_id=actor.id, proof=proof,
                                   now=act.now):
        return NotOpen(wish.status)
    wish = await wish_by_id(session=act.session, wish_id=wish.id) or wish
    act.audit("wish_fulfil", "wish", wish.id, proof=[p["kind"] for p in proof])
    shown = "；".join(p["ref"] if p["kind"] == "text" else "[照片]" for p in proof)
    await _tell(act, [wish.submitted_by_id], f"志愿者 {actor.name} 报告{wish_ref(wish.id)}（{wish.household}）已实现。"
                f"凭证：{shown}\n核实后请确认：确认心愿 #{wish.id}",
                [Button("确认", f"确认心愿 #{wish.id}")], ref=f"wish:{wish.id}")
    await _tell(act, [wish.published_by_id], f"{wish_ref(wish.id)}（{wish.household}）已由 {actor.name} 实现，等待村里确认。")
    return Fulfilled(wish)


@domain_action("wish_confirm")
async def confirm_wish(act: Act, wish: Wish) -> Confirmed | Refused | NotOpen:
    """Confirm a fulfilled wish (the village's first secretary, the submitter or an admin over the village)."""
    actor = actor_of(act)
    unit = await get_unit(act.session, wish.org_unit_id)
    allowed = wish.submitted_by_id == actor.id or (unit is not None and (
        await granted_over(act, "first_secretary", unit) is not None
        or await granted_over(act, "admin", unit) is not None))
    if not allowed:
        return act.refuse("wish_confirm", "只有这个村的第一书记或管理员可以确认微心愿。", "wish", wish.id)
    if not await store.confirm_wish(session=act.session, wish_id=wish.id, by_id=actor.id, now=act.now):
        return NotOpen(wish.status)
    wish = await wish_by_id(session=act.session, wish_id=wish.id) or wish
    act.audit("wish_confirm", "wish", wish.id)
    await _tell(act, [wish.claimed_by_id], f"村里确认了：{wish.household}的{wish_ref(wish.id)}已经实现。谢谢您的爱心！")
    await _tell(act, [wish.published_by_id, wish.submitted_by_id], f"{wish_ref(wish.id)}（{wish.household}）已确认实现。")
    return Confirmed(wish)
