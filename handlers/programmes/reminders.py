"""The pairing and wish reminders' texts (PRODUCT.md §5): to paired volunteers, station admins, wish claimants.

The scheduler (`scheduler/jobs/pairings.py`) reads who owes a visit or a wish; these only format.
"""

from __future__ import annotations

from collections.abc import Sequence


def pairing_reminder_text(month: int, households: Sequence[str]) -> str:
    """The 20th-of-the-month reminder to a paired volunteer: the households not visited yet."""
    names = "、".join(households[:10]) + (f" 等 {len(households)} 户" if len(households) > 10 else "")
    return (f"🏠 结对帮扶提醒：{month}月还没有走访 {names}。\n"
            f"走访后请回复：走访 户名 情况，例如：走访 {households[0] if households else '王大娘'} 解决了取暖问题")


def pairing_report_text(month: int, stations: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> str:
    """The month-end report to a station admin: pairings with no visit this month."""
    total = sum(len(rows) for _, rows in stations)
    lines = [f"📋 {month}月结对帮扶：{total} 户本月未走访"]
    for station, rows in stations:
        lines.append(f"【{station}】")
        lines.extend(f"· {household}（结对志愿者：{volunteer}）" for household, volunteer in rows[:20])
        if len(rows) > 20:
            lines.append(f"…… 另有 {len(rows) - 20} 户")
    return "\n".join(lines)


def wish_reminder_text(wishes: Sequence[tuple[int, str, str]]) -> str:
    """The weekly reminder to a volunteer who claimed a wish more than a week ago: (wish id, household, wish)."""
    lines = ["🎁 微心愿提醒：您认领的心愿还没有完成"]
    lines.extend(f"· #{wid} {household}：{description[:30]}" for wid, household, description in wishes[:10])
    lines.append("完成后请回复：实现 #心愿号 并附上照片。")
    return "\n".join(lines)
