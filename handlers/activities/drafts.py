"""An activity in the making: the captain's parsed sentence, the draft they confirm, the plan published.

The draft waits in the conversation state (as JSON) between 「活动 …」 and 「确认」; once
confirmed it becomes the `ActivityPlan` the `create_activity` action publishes.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from handlers.activities.actions.signups import ActivityPlan
from handlers.activities.texts import capacity_text, when_text
from handlers.language.activity_parser import ParsedActivity
from storage.models import Team

EXAMPLE = "活动 周六上午9点 村文化广场 包饺子 限20人"


def draft_problem(parsed: ParsedActivity) -> str | None:
    """What is missing or wrong in a parsed activity, as a reply; None when it is complete."""
    if parsed.when_past:
        return "这个活动时间已经过了，请写一个将来的时间，例如：" + EXAMPLE
    if parsed.starts_at is None:
        return "请写上活动时间，例如：" + EXAMPLE
    if parsed.when_vague:
        return "请写明几点开始，例如：周六上午9点、12月5日14:30。"
    if parsed.title is None:
        return "请写上活动内容，例如：" + EXAMPLE
    if parsed.problems:
        return "；".join(parsed.problems) + "。请改一下再发。"
    return None


def draft_of(parsed: ParsedActivity) -> dict[str, Any]:
    """A complete parsed activity as the JSON kept in the conversation state until it is confirmed."""
    assert parsed.starts_at is not None and parsed.ends_at is not None
    return {
        "starts_at": parsed.starts_at.isoformat(),
        "ends_at": parsed.ends_at.isoformat(),
        "title": parsed.title,
        "place": parsed.place,
        "capacity": parsed.capacity,
        "project": parsed.project,
        "location": list(parsed.location) if parsed.location else None,
        "radius_m": parsed.radius_m,
    }


def draft_text(tz: tzinfo, draft: dict[str, Any], team: Team) -> str:
    """The draft as the captain confirms it."""
    start, end = datetime.fromisoformat(draft["starts_at"]), datetime.fromisoformat(draft["ends_at"])
    lines = [
        "请确认活动：",
        f"内容：{draft['title']}",
        f"时间：{when_text(tz, start, end)}",
        f"地点：{draft.get('place') or '待定'}",
        f"队伍：{team.name}",
    ]
    if draft.get("project"):
        lines.append(f"项目：{draft['project']}")
    lines.append(f"名额：{capacity_text(draft.get('capacity'))}")
    if draft.get("location"):
        lines.append(f"位置签到：已设定（{draft.get('radius_m') or 500} 米内）")
    lines.append("没问题请点「确认」或回复 1；不对请点「取消」或回复 2，再重新发送。")
    return "\n".join(lines)


def plan_of(draft: dict[str, Any]) -> ActivityPlan:
    """The confirmed draft (kept in the conversation state as JSON) as the activity to publish."""
    location = draft.get("location")
    return ActivityPlan(
        title=draft["title"], starts_at=datetime.fromisoformat(draft["starts_at"]),
        ends_at=datetime.fromisoformat(draft["ends_at"]), place=draft.get("place"), capacity=draft.get("capacity"),
        project_id=draft.get("project_id"), location=(location[0], location[1]) if location else None,
        radius_m=draft.get("radius_m"),
    )
