"""When a recurring job falls due: monthly day rules, "the first Saturday" rules, weekly times.

Pure date arithmetic in the region's time zone, with no I/O. A month too short for a day
rule ("the 31st" in February) fires on its last day, so no month is skipped. Every
occurrence is named by its local date ("2026-12-05"), the period of the sent-log's key.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

WEEKDAY_ZH = "一二三四五六日"


@dataclass(frozen=True)
class Recurrence:
    """A monthly or weekly time of day.

    Exactly one form: `day_of_month` (monthly, 1–31), `week_of_month` + `weekday` (monthly,
    week 1–4 or -1 for the last), or `weekday` alone (weekly).
    """

    hour: int
    minute: int = 0
    day_of_month: int | None = None
    week_of_month: int | None = None
    weekday: int | None = None

    def __post_init__(self) -> None:
        if not (0 <= self.hour <= 23 and 0 <= self.minute <= 59):
            raise ValueError("time of day out of range")
        if self.day_of_month is not None:
            if not 1 <= self.day_of_month <= 31 or self.week_of_month is not None or self.weekday is not None:
                raise ValueError("a day-of-month rule takes a day 1–31 and nothing else")
        elif self.weekday is None or not 0 <= self.weekday <= 6:
            raise ValueError("a weekday rule needs a weekday 0–6")
        elif self.week_of_month is not None and self.week_of_month not in (1, 2, 3, 4, -1):
            raise ValueError("week of month must be 1–4 or -1 (the last)")

    @property
    def weekly(self) -> bool:
        """Whether this recurs every week rather than every month."""
        return self.day_of_month is None and self.week_of_month is None

    def day_in_month(self, year: int, month: int) -> date:
        """The day a monthly rule falls on in one month."""
        last = calendar.monthrange(year, month)[1]
        if self.day_of_month is not None:
            return date(year, month, min(self.day_of_month, last))
        assert self.weekday is not None and self.week_of_month is not None
        if self.week_of_month == -1:
            day = date(year, month, last)
            return day - timedelta(days=(day.weekday() - self.weekday) % 7)
        first = date(year, month, 1)
        return first + timedelta(days=(self.weekday - first.weekday()) % 7 + 7 * (self.week_of_month - 1))

    def _at(self, day: date, tz: tzinfo) -> datetime:
        return datetime.combine(day, time(self.hour, self.minute), tzinfo=tz)

    def latest_due(self, now: datetime, tz: tzinfo) -> datetime:
        """The most recent occurrence at or before `now` (aware, in `tz`)."""
        local = now.astimezone(tz)
        if self.weekly:
            assert self.weekday is not None
            day = local.date() - timedelta(days=(local.weekday() - self.weekday) % 7)
            at = self._at(day, tz)
            return at if at <= local else at - timedelta(days=7)
        year, month = local.year, local.month
        for _ in range(3):
            at = self._at(self.day_in_month(year, month), tz)
            if at <= local:
                return at
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        raise AssertionError("a monthly rule falls in every month")

    def next_due(self, after: datetime, tz: tzinfo) -> datetime:
        """The first occurrence strictly after `after`."""
        local = after.astimezone(tz)
        if self.weekly:
            return self.latest_due(local, tz) + timedelta(days=7)
        year, month = local.year, local.month
        for _ in range(3):
            at = self._at(self.day_in_month(year, month), tz)
            if at > local:
                return at
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise AssertionError("a monthly rule falls in every month")

    def between(self, start: datetime, end: datetime, tz: tzinfo) -> list[datetime]:
        """Every occurrence in (start, end]."""
        found, at = [], self.next_due(start, tz)
        while at <= end:
            found.append(at)
            at = self.next_due(at, tz)
        return found

    def describe(self) -> str:
        """The rule as people write it: 每月5日 08:00, 每月第一个周六 09:00, 每周一 08:00."""
        clock = f"{self.hour:02d}:{self.minute:02d}"
        if self.day_of_month is not None:
            return f"每月{self.day_of_month}日 {clock}"
        assert self.weekday is not None
        if self.week_of_month is None:
            return f"每周{WEEKDAY_ZH[self.weekday]} {clock}"
        nth = "最后一个" if self.week_of_month == -1 else f"第{'一二三四'[self.week_of_month - 1]}个"
        return f"每月{nth}周{WEEKDAY_ZH[self.weekday]} {clock}"


def period_of(due: datetime, tz: tzinfo) -> str:
    """The name of an occurrence: its local date."""
    return due.astimezone(tz).date().isoformat()
