"""Which team a leader means (docs/roles.md): the one they name, or a choice among those they lead.

Activities, broadcasts and hours verification all ask a captain or admin the same questions —
which teams could they mean, which one did they pick — so the conversation lives here once;
who may lead what is `handlers.core.rights`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from handlers.core.context import Context
from handlers.core.messages import Button
from handlers.core.rights import led_teams, may_lead, member_team_ids
from storage.db import load
from storage.models import Team
from storage.people.network import teams_named

CHOICE_TTL = timedelta(hours=1)


async def find_led_team(ctx: Context, query: str) -> tuple[Team | None, str | None, Team | None]:
    """A team named (or coded) `query` that the person may lead; else None, why, and the team refused (if one was)."""
    q = query.strip()
    rows = await teams_named(ctx.session, q)
    exact = [t for t in rows if t.name == q or t.code == q]
    candidates = exact or list(rows)
    mine = [t for t in candidates if await may_lead(ctx.act, t)]
    if len(mine) == 1:
        return mine[0], None, None
    if len(mine) > 1:
        return None, f"有几个队伍符合「{q}」：{'、'.join(t.name for t in mine[:5])}。请写全队伍名。", None
    if candidates:
        return None, f"您不是「{candidates[0].name}」的队长，也不是它所在地区的管理员。", candidates[0]
    return None, f"没有找到名为「{q}」的队伍。", None


async def refuse_non_leader(ctx: Context, reason: str, action: str) -> None:
    """Refuse a team action to someone who leads no team, audited with the team it would have touched.

    That is their own team (a volunteer broadcasting to it); with several, the first is the
    target and all are in the audit row; with none, there is no target to name.
    """
    mine = sorted(await member_team_ids(ctx.act))
    ctx.reply(reason)
    ctx.audit(action, "team" if mine else None, mine[0] if mine else None, outcome="refused", reason=reason,
              teams=mine if len(mine) > 1 else None)


async def teams_to_act_for(ctx: Context, query: str | None, action: str) -> list[Team] | None:
    """The team named by `query` (or every team I lead); None after replying why not.

    A named team I may not lead is refused and audited under `action`; a name that finds
    nothing gets a plain answer.
    """
    if not query:
        return await led_teams(ctx.act)
    team, why, refused = await find_led_team(ctx, query)
    if team is not None:
        return [team]
    if refused is not None:
        ctx.refuse(why or "", action, "team", refused.id)
    else:
        ctx.reply(why or "")
    return None


async def the_team_to_act_for(ctx: Context, query: str | None, action: str, *, unnamed: str, awaiting: str,
                             prompt: str, payload: dict[str, Any] | None = None) -> Team | None:
    """The one team a leader's command is for; None after answering (refused, none led, or asked which).

    A leader of several teams is asked `prompt` and their answer comes to `awaiting` with `payload`;
    one who leads a unit but no team of their own is told `unnamed` (how to name one).
    """
    teams = await teams_to_act_for(ctx, query, action)
    if teams is None:
        return None
    if not teams:
        ctx.reply(unnamed)
        return None
    if len(teams) > 1:
        await ask_which_team(ctx, teams, awaiting, payload or {}, prompt)
        return None
    return teams[0]


async def ask_which_team(ctx: Context, teams: list[Team], awaiting: str, payload: dict[str, Any], prompt: str) -> None:
    """Ask a person who leads several teams which one they mean; the answer comes to `awaiting`."""
    state = {"awaiting": awaiting, "team_ids": [t.id for t in teams], **payload}
    await ctx.state.set(ctx.state_key, state, CHOICE_TTL)
    lines = [prompt] + [f"{i}. {t.name}" for i, t in enumerate(teams, 1)]
    lines.append("请点队伍名，或回复序号。")
    ctx.reply("\n".join(lines), [Button(t.name, t.name) for t in teams])


async def chosen_team(ctx: Context, text: str, state: dict[str, Any]) -> Team | None:
    """The team a reply picks among those offered (by number or name), or None if it is no answer."""
    ids: list[int] = list(state.get("team_ids", []))
    word = text.strip()
    if word.isdigit() and 1 <= int(word) <= len(ids):
        return await load(ctx.session, Team, ids[int(word) - 1])
    for team_id in ids:
        team = await load(ctx.session, Team, team_id)
        if team is not None and word and (word == team.name or word == team.code):
            return team
    return None

