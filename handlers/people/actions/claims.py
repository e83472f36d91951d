"""Claiming a roster row from a chat account: a request, then proof — an approver's 同意, or the one-time code.

Names are public and invite codes are shared in groups, so `加入 <邀请码> <姓名>` naming someone
on the team's roster proves nothing by itself (issue 12: a stranger became captain 杨国富 that
way). It opens a request (`open_claim`): the team's captains are asked to approve it with one
tap, showing the account's display name — or, when the row belongs to a captain, an admin, a
shopkeeper, a first secretary or a federation admin, the nearest admins over the team are. If
the person already has a linked account, a one-time code goes there, which they type from the
new account (`prove_link`); that message also tells them someone is asking. Whatever proves it,
the link is audited as `link_identity` with its method, and the person's other accounts hear of it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from handlers.core.act import Act, Refused, domain_action
from handlers.core.messages import Button
from handlers.core.rights import admin_over, may_lead
from storage.db import load
from storage.messaging.outbox import enqueue_to_person
from storage.models import Person, Team
from storage.models.trust import LinkRequest
from storage.people.identities import link_identity
from storage.people.link_requests import (
    APPROVED,
    PROVED,
    REFUSED,
    code_digest,
    count_wrong_code,
    decide,
    holds_trusted_role,
    linked_accounts,
    open_request,
    pending_of_account,
    requests_since,
)
from storage.people.network import admins_at, ancestors, captains_of, get_unit

# A one-time code may be mistyped this often before only an approver can help.
CODE_TRIES = 5
# Requests an account may open in a day: enough for typos, too few to pester captains.
REQUESTS_PER_DAY = 5
PLATFORM_ZH = {"telegram": "Telegram", "wechat": "微信公众号", "wecom": "企业微信", "console": "控制台"}


@dataclass(frozen=True)
class ClaimPending:
    """A request opened: who is asked to approve it, and whether a code went to the person's own account."""

    request: LinkRequest
    person: Person
    team: Team
    approvers: list[Person]
    code_sent: bool


@dataclass(frozen=True)
class LinkDecided:
    """A request approved, refused or proved: the roster person and the team."""

    request: LinkRequest
    person: Person
    team: Team | None
    approved: bool


@dataclass(frozen=True)
class NoRequest:
    """The account has no pending request with a one-time code (or it lapsed)."""


def platform_name(platform: str) -> str:
    """A platform as people call it."""
    return PLATFORM_ZH.get(platform, platform)


def account_label(display_name: str | None, platform: str) -> str:
    """How an approver sees the asking account: 「显示名」（Telegram 账号）."""
    shown = (display_name or "").strip()[:40] or "没有显示名"
    return f"「{shown}」（{platform_name(platform)} 账号）"


async def tell_account(act: Act, person: Person, platform: str, external_id: str, text: str,
                       buttons: list[Button] | None = None) -> None:
    """A direct message to one chat account of a person (the new one, or an older one of theirs)."""
    row = await enqueue_to_person(act.session, person=person, text=text, now=act.now, platform=platform,
                                  address=external_id, buttons=[b.to_dict() for b in buttons or []])
    act.sent.append(row)


async def link_account(act: Act, *, platform: str, external_id: str, person: Person, method: str,
                       previous: int | None, **detail: object) -> None:
    """Point a chat account at a roster person, proved by `method`; audit it; tell the person's other accounts.

    `previous` is the person the account was before (audited, so a link can be traced and undone).
    """
    await link_identity(act.session, platform=platform, external_id=external_id, person_id=person.id, now=act.now)
    act.audit("link_identity", "person", person.id, platform=platform, method=method, previous_person_id=previous,
              **detail)
    how = {"contact": "分享手机号验证", "approved": "经负责人确认", "code": "用验证码验证"}.get(method, method)
    for account in await linked_accounts(act.session, person.id, besides=(platform, external_id)):
        await tell_account(act, person, account.platform, account.external_id,
                           f"提醒：您的身份（{person.name}）刚刚绑定了一个新的{platform_name(platform)}账号（{how}）。"
                           "如果不是您本人操作，请马上联系队长或站长。")


async def approvers_for(act: Act, person: Person, team: Team) -> tuple[list[Person], bool]:
    """Who approves a claim of `person`'s row via `team`: its captains, or (for trusted rows) the nearest admins.

    The second value says whether only admins may approve (a captain's, admin's or shopkeeper's row).
    """
    trusted = await holds_trusted_role(act.session, person.id)
    if not trusted:
        captains = [c for c in await captains_of(act.session, team.id) if c.id != person.id]
        if captains:
            return captains, False
    unit = await get_unit(act.session, team.org_unit_id)
    for level in await ancestors(act.session, unit) if unit is not None else []:
        admins = [a for a in await admins_at(act.session, level.id) if a.id != person.id]
        if admins:
            return admins, trusted
    return [], trusted


async def open_claim(act: Act, *, person: Person, team: Team, platform: str, external_id: str,
                     display_name: str | None) -> ClaimPending | Refused:
    """Ask for proof before an account acts as `person`: approvers get 同意/拒绝, the person's own account a code."""
    since = act.now - timedelta(days=1)
    if await requests_since(act.session, platform=platform, external_id=external_id, since=since) >= REQUESTS_PER_DAY:
        return act.refuse("link_request", "今天的绑定申请太多了，请明天再试，或直接找队长帮忙。", "person", person.id,
                          team_id=team.id)
    approvers, _ = await approvers_for(act, person, team)
    owned = await linked_accounts(act.session, person.id, besides=(platform, external_id))
    code = f"{secrets.randbelow(10**6):06d}" if owned else None
    request = await open_request(act.session, person_id=person.id, team_id=team.id, platform=platform,
                                 external_id=external_id, display_name=display_name, requester_id=act.actor_id,
                                 now=act.now, code=code)
    act.audit("link_request", "person", person.id, team_id=team.id, request_id=request.id, platform=platform,
              display_name=display_name, approvers=[a.id for a in approvers], code_sent=bool(code))
    who = account_label(display_name, platform)
    now_is = f"（这个账号现在登记为「{act.actor.name}」）" if act.actor is not None and act.actor.name else ""
    role = "（花名册上是负责人，需要管理员确认）" if await holds_trusted_role(act.session, person.id) else ""
    for approver in approvers:
        await act.notify.person(
            approver, f"🔐 {who}{now_is}申请以「{person.name}」{role}的身份加入「{team.name}」。"
                      f"确认是{person.name}本人，请点「同意」；不认识或拿不准，请点「拒绝」。",
            [Button("同意", f"同意绑定 #{request.id}"), Button("拒绝", f"拒绝绑定 #{request.id}")],
            ref=f"link:{request.id}")
    for account in owned if code else []:
        await tell_account(act, person, account.platform, account.external_id,
                           f"有一个{who}申请以您（{person.name}）的身份使用新风志愿服务。"
                           f"如果是您本人换了账号，请在新账号上发送：验证码 {code}（72 小时内有效）。"
                           "如果不是您，请不要把验证码告诉任何人，并告诉队长。")
    return ClaimPending(request, person, team, approvers, bool(code))


async def _may_decide(act: Act, request: LinkRequest, person: Person, team: Team | None) -> bool:
    """Whether the actor may approve or refuse this request (never for their own row)."""
    if act.actor is None or act.actor.id == person.id or team is None:
        return False
    if await holds_trusted_role(act.session, person.id):
        unit = await get_unit(act.session, team.org_unit_id)
        return unit is not None and await admin_over(act, unit) is not None
    return await may_lead(act, team)


async def _decide(act: Act, request: LinkRequest, approve: bool) -> LinkDecided | Refused:
    """Approve or refuse a request (the shared half of 同意 and 拒绝)."""
    action = "link_approve" if approve else "link_refuse"
    person: Person | None = await load(act.session, Person, request.person_id)
    team: Team | None = await load(act.session, Team, request.team_id)
    if person is None or not await _may_decide(act, request, person, team):
        name = person.name if person is not None else "这位队员"
        return act.refuse(action, f"只有「{team.name if team else '本队'}」的队长或管理员可以确认{name}的绑定申请"
                                  "（负责人本人的账号要由管理员确认）。", "link_request", request.id)
    if not await decide(act.session, request_id=request.id, status=APPROVED if approve else REFUSED,
                        by_id=act.actor_id, now=act.now):
        return act.refuse(action, f"这条绑定申请已经处理过了，或者已过期（申请 #{request.id}）。", "link_request",
                          request.id)
    act.audit(action, "link_request", request.id, person_id=person.id, team_id=team.id if team else None)
    by = act.actor.name if act.actor is not None else "负责人"
    if approve:
        await link_account(act, platform=request.platform, external_id=request.external_id, person=person,
                           method="approved", previous=request.requester_id, approved_by=act.actor_id,
                           request_id=request.id)
        await tell_account(act, person, request.platform, request.external_id,
                           f"{by}已确认：这个账号现在是「{person.name}」了。发送 帮助 查看能做什么。")
    else:
        requester = await load(act.session, Person, request.requester_id) or person
        await tell_account(act, requester, request.platform, request.external_id,
                           f"您以「{person.name}」身份加入的申请没有通过。如有误会，请直接联系队长。")
    return LinkDecided(request, person, team, approve)


@domain_action("link_approve")
async def approve_link(act: Act, request: LinkRequest) -> LinkDecided | Refused:
    """同意: link the asking account to the roster person (a captain, or an admin for a trusted row)."""
    return await _decide(act, request, approve=True)


@domain_action("link_refuse")
async def refuse_link(act: Act, request: LinkRequest) -> LinkDecided | Refused:
    """拒绝: the asking account stays who it was; it is told."""
    return await _decide(act, request, approve=False)


@domain_action("link_code")
async def prove_link(act: Act, *, platform: str, external_id: str, code: str) -> LinkDecided | NoRequest | Refused:
    """验证码: the one-time code sent to the person's linked account, typed from the new one, links it."""
    request = await pending_of_account(act.session, platform=platform, external_id=external_id, now=act.now)
    if request is None or request.code_digest is None:
        return NoRequest()
    if request.code_tries >= CODE_TRIES:
        return act.refuse("link_code", "验证码错误次数太多，已不能再试。请等队长确认，或重新申请。", "link_request",
                          request.id)
    if code_digest(platform, external_id, code.strip()) != request.code_digest:
        tries = await count_wrong_code(act.session, request.id)
        left = max(0, CODE_TRIES - tries)
        return act.refuse("link_code", f"验证码不对，还可以再试 {left} 次。" if left else
                          "验证码错误次数太多，已不能再试。请等队长确认，或重新申请。", "link_request", request.id)
    person: Person | None = await load(act.session, Person, request.person_id)
    if person is None or not await decide(act.session, request_id=request.id, status=PROVED, by_id=None, now=act.now):
        return NoRequest()
    act.audit("link_code", "link_request", request.id, person_id=person.id)
    await link_account(act, platform=platform, external_id=external_id, person=person, method="code",
                       previous=request.requester_id, request_id=request.id)
    team: Team | None = await load(act.session, Team, request.team_id)
    return LinkDecided(request, person, team, True)
