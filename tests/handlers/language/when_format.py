"""Windows written the way the villager corpus writes its `when` column."""

from __future__ import annotations

from datetime import datetime, time


def render(window: tuple[datetime, datetime] | None, clock: bool) -> str:
    """"YYYY-MM-DD", "YYYY-MM-DD 上午|中午|下午|晚上", "YYYY-MM-DD HH:MM" (`clock`), "D1..D2", or ""."""
    if window is None:
        return ""
    start, end = window
    if start.date() != end.date():
        return f"{start.date()}..{end.date()}"
    if clock:
        return f"{start.date()} {start:%H:%M}"
    if start.time() == time(0) and end.time() >= time(23, 59):
        return str(start.date())
    if end.time() <= time(12):
        part = "上午"
    elif start.hour >= 11 and end.time() <= time(14):
        part = "中午"
    elif start.hour >= 12 and end.time() <= time(18):
        part = "下午"
    else:
        part = "晚上"
    return f"{start.date()} {part}"
