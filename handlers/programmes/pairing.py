"""结对帮扶: a paired volunteer logs home visits (走访) and sees this month's counts (结对).

`走访 <户> <情况>` / `/visit` records a visit to one of my paired households. The number of
problems solved is read from the text (`problems_solved`): "解决了2个问题" → 2; otherwise a
trailing number on its own ("走访 王大娘 修水管 送药 2") → 2; otherwise 1 when the text says
解决 (and not 没解决/未解决), else 0. `结对` lists my pairings with this month's visits; an
admin also sees the pairings of their subtree, with the households nobody visited yet.
"""

from __future__ import annotations

import re

from handlers.core.context import Context
from handlers.core.permissions import admin_units
from handlers.core.places import village_core
from handlers.core.router import Router
from handlers.core.texts import as_typed, usage
from handlers.language.textnorm import parse_number
from storage.models import OrgUnit
from storage.models.pairings import Pairing
from storage.programmes.pairings import (
    log_visit,
    month_bounds,
    monthly_counts,
    pairings_of,
    pairings_under,
)

router = Router("pairing")

MAX_PROBLEMS = 50
_NUM = r"[0-9零一二两三四五六七八九十百]+"
_SOLVED_N = re.compile(rf"解决(?:了)?\s*({_NUM})\s*(?:个|件|项|条|桩)")
_TRAILING_N = re.compile(rf"(?:^|\s)({_NUM})\s*(?:个|件|项|条)?(?:问题)?$")
_NEGATED = re.compile(r"(没有?|未|还没有?|尚未)解决")


def problems_solved(text: str) -> int:
    """How many problems a visit note says were solved (the rule is in the module docstring)."""
    for pattern in (_SOLVED_N, _TRAILING_N):
        m = pattern.search(text)
        if m:
            value = parse_number(m.group(1))
            if value is not None and value == int(value) and 0 <= value <= MAX_PROBLEMS:
                return int(value)
    if "解决" in text and not _NEGATED.search(text):
        return 1
    return 0


def _match(pairings: list[Pairing], word: str) -> Pairing | None:
    exact = [p for p in pairings if p.household_name == word]
    if exact:
        return exact[0]
    # "王大娘家" / "王大娘那里": the household's name followed by a few words.
    prefix = [p for p in pairings if word.startswith(p.household_name)]
    return max(prefix, key=lambda p: len(p.household_name)) if prefix else None


@router.command("走访", "/visit")
async def visit(ctx: Context, args: str) -> None:
    """Log a home visit to a paired household: 走访 王大娘 解决了取暖问题."""
    mine = await pairings_of(session=ctx.session, volunteer_id=ctx.person.id)
    if not mine:
        ctx.refuse("您还没有结对帮扶的户。结对名单由村文明实践站导入，请联系站长。", "visit")
        return
    words = args.split(maxsplit=1)
    if len(words) < 2:
        names = "、".join(p.household_name for p in mine)
        ctx.reply(usage("走访 户名 情况", f"走访 {mine[0].household_name} 解决了取暖问题") + f"\n您结对的户：{names}")
        return
    pairing = _match(mine, words[0])
    if pairing is None:
        names = "、".join(p.household_name for p in mine)
        ctx.refuse(f"「{words[0]}」不是您结对的户。您结对的户：{names}。", "visit")
        return
    note = as_typed(ctx.message.text, words[1])[:1000]
    solved = problems_solved(note)
    row = await log_visit(session=ctx.session, pairing_id=pairing.id, note=note, problems_solved=solved, now=ctx.now)
    ctx.audit("visit", "pairing", pairing.id, visit_id=row.id, problems_solved=solved)
    start, end = month_bounds(ctx.now, ctx.tz)
    month = (await monthly_counts(session=ctx.session, pairing_ids=[pairing.id], start=start, end=end))[pairing.id]
    local = ctx.now.astimezone(ctx.tz)
    ctx.reply(f"已记录走访 {pairing.household_name}：{note}（解决问题 {solved} 个）。\n"
              f"{local.month}月已走访 {month.visits} 次，解决问题 {month.problems_solved} 个。谢谢您！")


@router.command("结对", "/pairings", args=False)
async def pairings(ctx: Context, args: str) -> None:
    """My paired households with this month's visits; for admins, also their subtree's."""
    start, end = month_bounds(ctx.now, ctx.tz)
    month = ctx.now.astimezone(ctx.tz).month
    lines: list[str] = []
    mine = await pairings_of(session=ctx.session, volunteer_id=ctx.person.id)
    if mine:
        counts = await monthly_counts(session=ctx.session, pairing_ids=[p.id for p in mine], start=start, end=end)
        lines.append(f"我结对的户（{month}月）：")
        for p in mine:
            unit = await ctx.session.get(OrgUnit, p.org_unit_id)
            c = counts[p.id]
            done = f"走访 {c.visits} 次，解决问题 {c.problems_solved} 个" if c.visits else "本月还没走访"
            lines.append(f"  {p.household_name}（{village_core(unit.name) if unit else '?'}）：{done}")
    for scope in (await admin_units(ctx))[:2]:
        rows = await pairings_under(session=ctx.session, unit=scope)
        if not rows:
            continue
        counts = await monthly_counts(session=ctx.session, pairing_ids=[p.id for p, _ in rows], start=start, end=end)
        visited = sum(1 for p, _ in rows if counts[p.id].visits)
        solved = sum(c.problems_solved for c in counts.values())
        lines.append(f"{scope.name}（{month}月）：结对 {len(rows)} 户，已走访 {visited} 户，解决问题 {solved} 个")
        missing = [f"{p.household_name}（{v.name}）" for p, v in rows if not counts[p.id].visits]
        if missing:
            lines.append("  还没走访：" + "、".join(missing[:10]) + ("…" if len(missing) > 10 else ""))
    if not lines:
        lines.append("您还没有结对帮扶的户。结对名单由村文明实践站导入。")
    ctx.reply("\n".join(lines))
