"""微心愿: a first secretary submits a household's wish, the federation publishes it, one volunteer
claims it, fulfils it with a photo as proof, and the secretary confirms (PRODUCT.md §5).

`心愿 <户> <内容>` (a first secretary: their station; an admin of a station: that station; a
higher admin names the village first: `心愿 <村> <户> <内容>`) · `发布心愿 #n` (a federation
admin whose scope covers the village) · `认领 #n` (any volunteer) · `实现 #n` with a photo —
a channel that cannot send photos (the console) may write the proof as text:
`实现 #n 照片:<说明或链接>` · `确认心愿 #n` (the village's secretary, the submitter or an admin
over the village). Everyone involved is told at each step, by the actions in
`handlers.programmes.actions.wishes`; this module reads what was typed and replies.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from handlers.core.act import Refused, Unreadable
from handlers.core.context import Context
from handlers.core.places import village_core
from handlers.core.rights import member_team_ids
from handlers.core.router import Router
from handlers.core.texts import as_typed, usage
from handlers.language.textnorm import parse_ref
from handlers.programmes.actions.wishes import (
    AlreadyClaimed,
    Fulfilled,
    NotOpen,
    ProofNeeded,
    Taken,
    VillageNeeded,
    claim_wish,
    confirm_wish,
    fulfil_wish,
    may_see_wish,
    publish_wish,
    submit_wish,
)
from handlers.programmes.cards import wish_card, wish_ref, wish_status
from storage.models.wishes import Wish, WishStatus
from storage.people.network import ancestors, units_by_ids
from storage.programmes.wishes import wish_by_id, wishes_claimed_by, wishes_under

router = Router("wishes")

PROOF_TTL = timedelta(hours=24)
PROOF_PREFIXES = ("照片", "图片", "凭证")


async def _wish(ctx: Context, args: str, command: str) -> Wish | None:
    """The wish a command names ("#3"); None after saying how to name one, or that there is none."""
    wish_id = parse_ref(args.split()[0]) if args.split() else None
    if wish_id is None:
        ctx.reply(usage(f"{command} #心愿号", f"{command} #3"))
        return None
    wish = await wish_by_id(session=ctx.session, wish_id=wish_id)
    if wish is None:
        ctx.reply(f"没有找到{wish_ref(wish_id)}，请核对心愿号。")
    return wish


@router.command("心愿", "/wish")
async def wish(ctx: Context, args: str) -> None:
    """Submit a household's wish, show one (心愿 #3), or list the wishes I can see."""
    if not args:
        await _list(ctx)
        return
    single = parse_ref(args) if len(args.split()) == 1 else None
    if single is not None:
        found = await wish_by_id(session=ctx.session, wish_id=single)
        if found is not None and not await may_see_wish(ctx.act, found):
            # Said as if it were not there: whether a wish exists is itself not everyone's to know.
            ctx.refuse(f"没有找到{wish_ref(single)}，或者您没有权限查看它。", "wish_view", "wish", found.id)
            return
        ctx.reply(await wish_card(ctx.session, found) if found else f"没有找到{wish_ref(single)}，或者您没有权限查看它。")
        return
    outcome = await submit_wish(ctx.act, args.split())
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, VillageNeeded):
        ctx.reply(usage("心愿 村名 户名 心愿内容", "心愿 东台吉村 李大爷 想要一台收音机 约80元"))
    elif isinstance(outcome, Unreadable):
        ctx.reply(usage("心愿 户名 心愿内容", "心愿 李大爷 想要一台收音机 约80元"))
    else:
        row = outcome.wish
        who = "已通知志愿服务联合会发布" if outcome.federation_told else "本地还没有志愿服务联合会管理员，请联系上级发布"
        ctx.reply(f"已登记{wish_ref(row.id)}：{row.household} {row.description}（{village_core(outcome.unit.name)}）。{who}。")


async def _list(ctx: Context) -> None:
    """List the wishes of my scopes, those open to me as a volunteer, and those I claimed."""
    lines: list[str] = []
    scopes = await units_by_ids(ctx.session, [g.org_unit_id for g in ctx.roles
                                              if g.role in ("first_secretary", "federation_admin", "admin")
                                              and g.org_unit_id is not None])
    seen: set[int] = set()
    for scope in scopes[:3]:
        for w in await wishes_under(session=ctx.session, unit=scope):
            if w.id not in seen:
                seen.add(w.id)
                lines.append(await wish_card(ctx.session, w))
    home = await ctx.home_unit()
    if home is not None and (ctx.person.is_volunteer or await member_team_ids(ctx.act)):
        top = [u for u in await ancestors(ctx.session, home) if u.level == "center"]
        for w in await wishes_under(session=ctx.session, unit=top[0] if top else home,
                                    statuses=(WishStatus.published.value,)):
            if w.id not in seen:
                seen.add(w.id)
                lines.append(await wish_card(ctx.session, w) + f"  → 认领 #{w.id}")
        for w in await wishes_claimed_by(session=ctx.session, volunteer_id=ctx.person.id):
            if w.id not in seen:
                seen.add(w.id)
                lines.append(await wish_card(ctx.session, w) + "（我认领的）")
    ctx.reply("微心愿：\n" + "\n".join(lines) if lines else "现在没有您能看到的微心愿。")


@router.command("发布心愿", "/publishwish")
async def publish(ctx: Context, args: str) -> None:
    """Publish a submitted wish to the volunteer teams nearest its village (federation admins)."""
    found = await _wish(ctx, args, "发布心愿")
    if found is None:
        return
    outcome = await publish_wish(ctx.act, found)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, NotOpen):
        ctx.reply(f"{wish_ref(found.id)} 现在{wish_status(outcome.status)}，不需要再发布。")
    else:
        names = "、".join(t.name for t in outcome.teams) or "（附近没有志愿服务队）"
        ctx.reply(f"已发布{wish_ref(found.id)}给：{names}（{outcome.sent} 条通知）。")


@router.command("认领", "/claim")
async def claim(ctx: Context, args: str) -> None:
    """Claim a published wish: exactly one volunteer wins it."""
    found = await _wish(ctx, args, "认领")
    if found is None:
        return
    outcome = await claim_wish(ctx.act, found)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, AlreadyClaimed):
        ctx.reply(f"您已经认领了{wish_ref(found.id)}。")
    elif isinstance(outcome, Taken):
        ctx.reply(f"谢谢您的爱心！{wish_ref(found.id)} 已经被其他志愿者认领了。")
    elif isinstance(outcome, NotOpen):
        ctx.reply(f"{wish_ref(found.id)} 现在{wish_status(outcome.status)}，还不能认领。")
    else:
        ctx.reply(f"认领成功，谢谢您！\n{await wish_card(ctx.session, outcome.wish)}\n"
                  f"实现后请发：实现 #{found.id} 并附一张照片（发不了照片时可以写：实现 #{found.id} 照片:说明）")


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
    proof = _proof(ctx, as_typed(ctx.message.text, " ".join(args.split()[1:])))
    outcome = await fulfil_wish(ctx.act, found, proof)
    if isinstance(outcome, ProofNeeded):
        await ctx.state.set(ctx.state_key, {"awaiting": "wish_proof", "wish_id": found.id}, PROOF_TTL)
        ctx.reply(f"请发一张照片作为{wish_ref(found.id)}实现的凭证。\n（发不了照片时可以写：实现 #{found.id} 照片:说明或链接）")
    elif isinstance(outcome, NotOpen) and not proof:
        ctx.reply(f"{wish_ref(found.id)} 现在{wish_status(outcome.status)}。")
    else:
        await _fulfilled(ctx, found, outcome)


@router.on_state("wish_proof")
async def proof_photo(ctx: Context, text: str, pending: dict[str, Any]) -> bool:
    """A photo sent after `实现 #n` is that wish's proof; anything else goes on as usual."""
    if not any(m.kind == "photo" for m in ctx.message.media):
        return False
    await ctx.state.clear(ctx.state_key)
    found = await wish_by_id(session=ctx.session, wish_id=int(pending.get("wish_id", 0)))
    if found is None or found.claimed_by_id != ctx.person.id:
        return False
    await _fulfilled(ctx, found, await fulfil_wish(ctx.act, found, _proof(ctx, "")))
    return True


async def _fulfilled(ctx: Context, found: Wish, outcome: Fulfilled | Refused | ProofNeeded | NotOpen) -> None:
    """The reply to a fulfilment reported with its proof."""
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, (NotOpen, ProofNeeded)):  # proof was given: only NotOpen can come back
        ctx.reply(f"{wish_ref(found.id)} 现在{wish_status(found.status)}，不能再报告实现。")
    else:
        await ctx.state.clear(ctx.state_key)
        ctx.reply(f"太好了，谢谢您！{wish_ref(found.id)} 已报告实现，等待村里确认。")


@router.command("确认心愿", "/confirmwish")
async def confirm(ctx: Context, args: str) -> None:
    """Confirm a fulfilled wish (the village's first secretary, the submitter or an admin over it)."""
    found = await _wish(ctx, args, "确认心愿")
    if found is None:
        return
    outcome = await confirm_wish(ctx.act, found)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, NotOpen):
        ctx.reply(f"{wish_ref(found.id)} 现在{wish_status(outcome.status)}，不能确认。")
    else:
        ctx.reply(f"已确认{wish_ref(found.id)}：{outcome.wish.household}的心愿实现了。谢谢！")
