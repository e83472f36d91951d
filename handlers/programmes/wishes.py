"""微心愿: a first secretary submits a household's wish, the federation publishes it, one volunteer
claims it, fulfils it with a photo as proof, and the secretary confirms (PRODUCT.md §5).

`心愿 <户> <内容>` (a first secretary: their station; an admin of a station: that station; a
higher admin names the village first: `心愿 <村> <户> <内容>`) · `发布心愿 #n` (a federation
admin whose scope covers the village) · `认领 #n` (any volunteer) · `实现 #n` with a photo —
a channel that cannot send photos (the console) may write the proof as text:
`实现 #n 照片:<说明或链接>` · `确认心愿 #n` (the village's secretary, the submitter or an admin
over the village). Everyone involved is told at each step.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.permissions import (
    admin_over,
    admin_units,
    member_team_ids,
    secretary_over,
)
from handlers.core.places import VILLAGE_LEVELS, find_villages, village_core
from handlers.core.router import Router
from handlers.core.texts import as_typed, usage
from handlers.language.textnorm import parse_ref
from storage.models import OrgUnit, Person, RoleGrant, Team, TeamMember
from storage.models.wishes import Wish, WishStatus
from storage.people.network import ancestors
from storage.programmes.wishes import (
    ClaimResult,
    claim_wish,
    confirm_wish,
    fulfil_wish,
    publish_wish,
    submit_wish,
    wishes_claimed_by,
    wishes_under,
)

router = Router("wishes")

STATUS_ZH = {
    "submitted": "待发布",
    "published": "待认领",
    "claimed": "已认领",
    "fulfilled": "待确认",
    "confirmed": "已实现",
}
PROOF_TTL = timedelta(hours=24)
PROOF_PREFIXES = ("照片", "图片", "凭证")


def wish_ref(wish_id: int) -> str:
    """How a wish number is written: 心愿 #3."""
    return f"心愿 #{wish_id}"


async def wish_card(ctx: Context, wish: Wish) -> str:
    """A wish as people read it: number, household, village, what they wish for."""
    unit = await ctx.session.get(OrgUnit, wish.org_unit_id)
    where = village_core(unit.name) if unit else "?"
    return f"{wish_ref(wish.id)}【{STATUS_ZH.get(wish.status, wish.status)}】{where} {wish.household}：{wish.description}"


async def _federation_admins(ctx: Context, unit: OrgUnit) -> list[Person]:
    rows = (await ctx.session.execute(
        select(Person, OrgUnit).join(RoleGrant, RoleGrant.person_id == Person.id)
        .join(OrgUnit, OrgUnit.id == RoleGrant.org_unit_id)
        .where(RoleGrant.role == "federation_admin").order_by(Person.id)
    )).all()
    return list({p.id: p for p, scope in rows if unit.path.startswith(scope.path)}.values())


async def _tell(ctx: Context, person_ids: list[int | None], text: str, buttons: list[Button] | None = None,
                ref: str | None = None) -> None:
    """Tell each of these people once, never the sender (who gets the reply)."""
    for pid in dict.fromkeys(p for p in person_ids if p is not None and p != ctx.person.id):
        person = await ctx.session.get(Person, pid)
        if person is not None:
            await ctx.notify(person, text, buttons, ref)


async def _wish(ctx: Context, args: str, command: str) -> Wish | None:
    wish_id = parse_ref(args.split()[0]) if args.split() else None
    if wish_id is None:
        ctx.reply(usage(f"{command} #心愿号", f"{command} #3"))
        return None
    wish = await ctx.session.get(Wish, wish_id)
    if wish is None:
        ctx.reply(f"没有找到{wish_ref(wish_id)}，请核对心愿号。")
    return wish


async def _submit_scope(ctx: Context, words: list[str]) -> tuple[OrgUnit | None, list[str]]:
    """The village a wish is for, and the words left: secretaries and station admins need no village."""
    for grant in ctx.roles:
        if grant.role == "first_secretary" and grant.org_unit_id is not None:
            unit = await ctx.session.get(OrgUnit, grant.org_unit_id)
            if unit is not None:
                return unit, words
    scopes = await admin_units(ctx)
    for scope in scopes:
        if scope.level in VILLAGE_LEVELS:
            return scope, words
    if scopes and len(words) >= 3:
        hits, _ = await find_villages(ctx.session, words[0])
        inside = [u for u in hits if any(u.path.startswith(s.path) for s in scopes)]
        if len(inside) == 1:
            return inside[0], words[1:]
    return None, words


@router.command("心愿", "/wish")
async def wish(ctx: Context, args: str) -> None:
    """Submit a household's wish, show one (心愿 #3), or list the wishes I can see."""
    if not args:
        await _list(ctx)
        return
    single = parse_ref(args) if len(args.split()) == 1 else None
    if single is not None:
        found = await ctx.session.get(Wish, single)
        ctx.reply(await wish_card(ctx, found) if found else f"没有找到{wish_ref(single)}。")
        return
    is_secretary = any(g.role == "first_secretary" for g in ctx.roles)
    if not is_secretary and not await admin_units(ctx):
        ctx.refuse("只有驻村第一书记或管理员可以代群众提交微心愿。", "wish_submit")
        return
    unit, words = await _submit_scope(ctx, args.split())
    if unit is None:
        ctx.reply(usage("心愿 村名 户名 心愿内容", "心愿 东台吉村 李大爷 想要一台收音机 约80元"))
        return
    if len(words) < 2 or len(words[0]) > 100:
        ctx.reply(usage("心愿 户名 心愿内容", "心愿 李大爷 想要一台收音机 约80元"))
        return
    household, description = words[0], " ".join(words[1:])
    row = await submit_wish(session=ctx.session, org_unit_id=unit.id, household=household,
                            description=description[:2000], submitted_by_id=ctx.person.id, now=ctx.now)
    ctx.audit("wish_submit", "wish", row.id, org_unit_id=unit.id)
    admins = await _federation_admins(ctx, unit)
    card = await wish_card(ctx, row)
    for admin in admins:
        await ctx.notify(admin, f"新的微心愿待发布：\n{card}\n提交人：{ctx.person.name}",
                         [Button("发布", f"发布心愿 #{row.id}")], ref=f"wish:{row.id}")
    who = "已通知志愿服务联合会发布" if admins else "本地还没有志愿服务联合会管理员，请联系上级发布"
    ctx.reply(f"已登记{wish_ref(row.id)}：{household} {description}（{village_core(unit.name)}）。{who}。")


async def _list(ctx: Context) -> None:
    lines: list[str] = []
    scopes = [await ctx.session.get(OrgUnit, g.org_unit_id) for g in ctx.roles
              if g.role in ("first_secretary", "federation_admin", "admin") and g.org_unit_id is not None]
    seen: set[int] = set()
    for scope in [s for s in scopes if s is not None][:3]:
        for w in await wishes_under(session=ctx.session, unit=scope):
            if w.id not in seen:
                seen.add(w.id)
                lines.append(await wish_card(ctx, w))
    home = await ctx.home_unit()
    if home is not None and (ctx.person.is_volunteer or await member_team_ids(ctx)):
        top = [u for u in await ancestors(ctx.session, home) if u.level == "center"]
        for w in await wishes_under(session=ctx.session, unit=top[0] if top else home,
                                    statuses=(WishStatus.published.value,)):
            if w.id not in seen:
                seen.add(w.id)
                lines.append(await wish_card(ctx, w) + f"  → 认领 #{w.id}")
        for w in await wishes_claimed_by(session=ctx.session, volunteer_id=ctx.person.id):
            if w.id not in seen:
                seen.add(w.id)
                lines.append(await wish_card(ctx, w) + "（我认领的）")
    ctx.reply("微心愿：\n" + "\n".join(lines) if lines else "现在没有您能看到的微心愿。")


async def _publish_targets(ctx: Context, unit: OrgUnit) -> list[Team]:
    """The teams nearest the village: its own, else the first level above that has any."""
    for level_unit in await ancestors(ctx.session, unit):
        teams = (await ctx.session.execute(
            select(Team).where(Team.org_unit_id == level_unit.id).order_by(Team.id))).scalars().all()
        if teams:
            return list(teams)
    return []


@router.command("发布心愿", "/publishwish")
async def publish(ctx: Context, args: str) -> None:
    """Publish a submitted wish to the volunteer teams nearest its village (federation admins)."""
    found = await _wish(ctx, args, "发布心愿")
    if found is None:
        return
    unit = await ctx.session.get(OrgUnit, found.org_unit_id)
    admins = await _federation_admins(ctx, unit) if unit else []
    if unit is None or ctx.person.id not in {a.id for a in admins}:
        ctx.refuse("只有负责这个村的志愿服务联合会管理员可以发布微心愿。", "wish_publish", "wish", found.id)
        return
    if not await publish_wish(session=ctx.session, wish_id=found.id, by_id=ctx.person.id, now=ctx.now):
        ctx.reply(f"{wish_ref(found.id)} 现在{STATUS_ZH.get(found.status, found.status)}，不需要再发布。")
        return
    await ctx.session.refresh(found)
    ctx.audit("wish_publish", "wish", found.id)
    card = await wish_card(ctx, found)
    teams = await _publish_targets(ctx, unit)
    told: set[int] = {ctx.person.id}
    sent = 0
    for team in teams:
        members = set((await ctx.session.execute(
            select(TeamMember.person_id).where(TeamMember.team_id == team.id))).scalars())
        sent += await ctx.notifier.team(team, f"🎁 新的微心愿，等您认领：\n{card}\n点「认领」或回复：认领 #{found.id}",
                                        [Button("认领", f"认领 #{found.id}")], ref=f"wish:{found.id}",
                                        exclude_person_ids=set(told))
        told |= members
    names = "、".join(t.name for t in teams) or "（附近没有志愿服务队）"
    ctx.reply(f"已发布{wish_ref(found.id)}给：{names}（{sent} 条通知）。")
    await _tell(ctx, [found.submitted_by_id], f"您提交的{wish_ref(found.id)}（{found.household}）已发布，等待志愿者认领。")


@router.command("认领", "/claim")
async def claim(ctx: Context, args: str) -> None:
    """Claim a published wish: exactly one volunteer wins it."""
    found = await _wish(ctx, args, "认领")
    if found is None:
        return
    if not (ctx.person.is_volunteer or await member_team_ids(ctx)):
        ctx.refuse("只有注册的志愿者可以认领微心愿。加入志愿服务队后就可以认领了。", "wish_claim", "wish", found.id)
        return
    result = await claim_wish(session=ctx.session, wish_id=found.id, volunteer_id=ctx.person.id, now=ctx.now)
    if result is ClaimResult.already:
        ctx.reply(f"您已经认领了{wish_ref(found.id)}。")
        return
    if result is ClaimResult.taken:
        ctx.reply(f"谢谢您的爱心！{wish_ref(found.id)} 已经被其他志愿者认领了。")
        ctx.audit("wish_claim", "wish", found.id, outcome="taken")
        return
    if result is ClaimResult.not_open:
        ctx.reply(f"{wish_ref(found.id)} 现在{STATUS_ZH.get(found.status, found.status)}，还不能认领。")
        return
    await ctx.session.refresh(found)
    ctx.audit("wish_claim", "wish", found.id)
    ctx.reply(f"认领成功，谢谢您！\n{await wish_card(ctx, found)}\n"
              f"实现后请发：实现 #{found.id} 并附一张照片（发不了照片时可以写：实现 #{found.id} 照片:说明）")
    await _tell(ctx, [found.submitted_by_id, found.published_by_id],
                f"{wish_ref(found.id)}（{found.household}）已由志愿者 {ctx.person.name} 认领。")


def _proof(ctx: Context, rest: str) -> list[dict[str, Any]]:
    """Photos sent with the message, or a text proof "照片:<说明或链接>"."""
    proof: list[dict[str, Any]] = [{"kind": m.kind, "ref": m.ref} for m in ctx.message.media if m.kind == "photo"]
    for prefix in PROOF_PREFIXES:
        said = rest[len(prefix):].strip(" :：")
        if rest.startswith(prefix) and said:
            proof.append({"kind": "text", "ref": said[:500]})
            break
    return proof


@router.command("实现", "/fulfil", "/fulfill")
async def fulfil(ctx: Context, args: str) -> None:
    """Report a claimed wish fulfilled, with a photo as proof."""
    found = await _wish(ctx, args, "实现")
    if found is None:
        return
    if found.claimed_by_id != ctx.person.id:
        ctx.refuse(f"只有认领了{wish_ref(found.id)}的志愿者可以报告实现。", "wish_fulfil", "wish", found.id)
        return
    proof = _proof(ctx, as_typed(ctx.message.text, " ".join(args.split()[1:])))
    if not proof:
        if found.status != WishStatus.claimed.value:
            ctx.reply(f"{wish_ref(found.id)} 现在{STATUS_ZH.get(found.status, found.status)}。")
            return
        await ctx.state.set(ctx.state_key, {"awaiting": "wish_proof", "wish_id": found.id}, PROOF_TTL)
        ctx.reply(f"请发一张照片作为{wish_ref(found.id)}实现的凭证。\n（发不了照片时可以写：实现 #{found.id} 照片:说明或链接）")
        return
    await _finish_fulfil(ctx, found, proof)


@router.on_state("wish_proof")
async def proof_photo(ctx: Context, text: str, pending: dict[str, Any]) -> bool:
    """A photo sent after `实现 #n` is that wish's proof; anything else goes on as usual."""
    if not any(m.kind == "photo" for m in ctx.message.media):
        return False
    await ctx.state.clear(ctx.state_key)
    found = await ctx.session.get(Wish, int(pending.get("wish_id", 0)))
    if found is None or found.claimed_by_id != ctx.person.id:
        return False
    await _finish_fulfil(ctx, found, _proof(ctx, ""))
    return True


async def _finish_fulfil(ctx: Context, found: Wish, proof: list[dict[str, Any]]) -> None:
    if not await fulfil_wish(session=ctx.session, wish_id=found.id, volunteer_id=ctx.person.id, proof=proof,
                             now=ctx.now):
        ctx.reply(f"{wish_ref(found.id)} 现在{STATUS_ZH.get(found.status, found.status)}，不能再报告实现。")
        return
    await ctx.state.clear(ctx.state_key)
    await ctx.session.refresh(found)
    ctx.audit("wish_fulfil", "wish", found.id, proof=[p["kind"] for p in proof])
    ctx.reply(f"太好了，谢谢您！{wish_ref(found.id)} 已报告实现，等待村里确认。")
    shown = "；".join(p["ref"] if p["kind"] == "text" else "[照片]" for p in proof)
    await _tell(ctx, [found.submitted_by_id], f"志愿者 {ctx.person.name} 报告{wish_ref(found.id)}（{found.household}）已实现。"
                f"凭证：{shown}\n核实后请确认：确认心愿 #{found.id}",
                [Button("确认", f"确认心愿 #{found.id}")], ref=f"wish:{found.id}")
    await _tell(ctx, [found.published_by_id], f"{wish_ref(found.id)}（{found.household}）已由 {ctx.person.name} 实现，等待村里确认。")


@router.command("确认心愿", "/confirmwish")
async def confirm(ctx: Context, args: str) -> None:
    """Confirm a fulfilled wish (the village's first secretary, the submitter or an admin over it)."""
    found = await _wish(ctx, args, "确认心愿")
    if found is None:
        return
    unit = await ctx.session.get(OrgUnit, found.org_unit_id)
    allowed = found.submitted_by_id == ctx.person.id or (
        unit is not None and (await secretary_over(ctx, unit) is not None or await admin_over(ctx, unit) is not None))
    if not allowed:
        ctx.refuse("只有这个村的第一书记或管理员可以确认微心愿。", "wish_confirm", "wish", found.id)
        return
    if not await confirm_wish(session=ctx.session, wish_id=found.id, by_id=ctx.person.id, now=ctx.now):
        ctx.reply(f"{wish_ref(found.id)} 现在{STATUS_ZH.get(found.status, found.status)}，不能确认。")
        return
    await ctx.session.refresh(found)
    ctx.audit("wish_confirm", "wish", found.id)
    ctx.reply(f"已确认{wish_ref(found.id)}：{found.household}的心愿实现了。谢谢！")
    await _tell(ctx, [found.claimed_by_id], f"村里确认了：{found.household}的{wish_ref(found.id)}已经实现。谢谢您的爱心！")
    await _tell(ctx, [found.published_by_id, found.submitted_by_id], f"{wish_ref(found.id)}（{found.household}）已确认实现。")

