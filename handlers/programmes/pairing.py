"""结对帮扶: a paired volunteer logs home visits (走访) and sees this month's counts (结对).

`走访 <户> <情况>` / `/visit` records a visit to one of my paired households. The number of
problems solved is read from the text (`problems_solved`): "解决了2个问题" → 2; otherwise a
trailing number on its own ("走访 王大娘 修水管 送药 2") → 2; otherwise 1 when the text says
解决 (and not 没解决/未解决), else 0. `结对` lists my pairings with this month's visits; an
admin also sees the pairings of their subtree, with the households nobody visited yet.
The visit itself is recorded by the action `handlers.programmes.actions.pairing.log_visit`.
"""

from __future__ import annotations

import re

from handlers.core.act import Refused
from handlers.core.context import Context
from handlers.core.places import village_core
from handlers.core.rights import admin_units
from handlers.core.router import Router
from handlers.core.texts import as_typed, usage
from handlers.language.textnorm import parse_number
from handlers.programmes.actions.pairing import (
    MAX_NOTE,
    MAX_PROBLEMS,
    NoteNeeded,
    log_visit,
)
from storage.people.network import units_by_ids
from storage.programmes.pairings import (
    month_bounds,
    monthly_counts,
    pairings_of,
    pairings_under,
)

router = Router("pairing")

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


@router.command("走访", "/visit")
async def visit(ctx: Context, args: str) -> None:
    """Log a home visit to a paired household: 走访 王大娘 解决了取暖问题."""
    words = args.split(maxsplit=1)
    note = as_typed(ctx.message.text, words[1])[:MAX_NOTE] if len(words) == 2 else ""
    outcome = await log_visit(ctx.act, household=words[0] if words else "", note=note,
                              problems_solved=problems_solved(note))
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, NoteNeeded):
        names = "、".join(p.household_name for p in outcome.households)
        ctx.reply(usage("走访 户名 情况", f"走访 {outcome.households[0].household_name} 解决了取暖问题")
                  + f"\n您结对的户：{names}")
    else:
        local = ctx.now.astimezone(ctx.tz)
        ctx.reply(f"已记录走访 {outcome.pairing.household_name}：{note}（解决问题 {outcome.visit.problems_solved} 个）。\n"
                  f"{local.month}月已走访 {outcome.month.visits} 次，解决问题 {outcome.month.problems_solved} 个。谢谢您！")


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
        units = {u.id: u for u in await units_by_ids(ctx.session, [p.org_unit_id for p in mine])}
        for p in mine:
            unit = units.get(p.org_unit_id)
            c = counts[p.id]
            done = f"走访 {c.visits} 次，解决问题 {c.problems_solved} 个" if c.visits else "本月还没走访"
            lines.append(f"  {p.household_name}（{village_core(unit.name) if unit else '?'}）：{done}")
    for scope in (await admin_units(ctx.act))[:2]:
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
