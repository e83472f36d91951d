"""导出 工时|任务|志愿者|活动 [地区] [日期] [xlsx|csv]: an admin's spreadsheet, sent as a document.

Phones follow docs/roles.md: a task's contact phone is shown to the admins over the task;
a person's own phone only when their home unit lies in the asker's scope (or they allow
sharing) — a volunteer from the county team who served in a village shows as 139****0021
in that village admin's file. Files go to private chats only. The command reads the words;
the action (`export_sheet`) checks the scope, builds the file and records who took it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from handlers.core.act import Refused, Unreadable
from handlers.core.context import Context
from handlers.core.router import Router
from handlers.core.texts import usage
from handlers.datamap.actions import CHAT_ROW_LIMIT, KIND_ZH, export_sheet
from handlers.datamap.files import EARLIEST_DAY, LATEST_DAY, sane_period
from handlers.datamap.regions import RegionNotFound
from storage.datamap.figures import local_today
from storage.messaging.attachments import attach

router = Router("exports")

KINDS = {"工时": "hours", "时长": "hours", "hours": "hours", "任务": "tasks", "tasks": "tasks",
         "志愿者": "volunteers", "volunteers": "volunteers", "活动": "activities", "activities": "activities"}
FORMATS = {"xlsx": "xlsx", "excel": "xlsx", "表格": "xlsx", "csv": "csv"}
EXAMPLE = "导出 工时 蓬莱社区 2026-11-01 2026-11-30"
_DAY = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_MONTH = re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$")


def _month_span(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def parse_dates(words: list[str], today: date) -> tuple[date, date] | None:
    """The period named by the words (two days, one day, a month, 本月/上月/今年); None if unreadable.

    A period outside the years records can hold (1900, 9999) is unreadable too (`sane_period`).
    """
    try:
        period = _parse_dates(words, today)
    except ValueError:  # 2026-13-45 looks like a date but is none
        return None
    return period if period is None or sane_period(*period) else None


def _parse_dates(words: list[str], today: date) -> tuple[date, date] | None:
    days: list[date] = []
    span: tuple[date, date] | None = None
    for word in words:
        if word == "本月":
            span = (today.replace(day=1), today)
        elif word == "上月":
            last = today.replace(day=1) - timedelta(days=1)
            span = _month_span(last.year, last.month)
        elif word == "今年":
            span = (date(today.year, 1, 1), today)
        elif m := _DAY.match(word):
            days.append(date(int(m[1]), int(m[2]), int(m[3])))
        elif m := _MONTH.match(word):
            span = _month_span(int(m[1]), int(m[2]))
        else:
            return None
    if days:
        return (min(days), max(days))
    return span


def _is_date_word(word: str) -> bool:
    return word in ("本月", "上月", "今年") or bool(_DAY.match(word) or _MONTH.match(word))


@router.command("导出", "/export")
async def export(ctx: Context, args: str) -> None:
    """Send me a spreadsheet of my region's hours, tasks, volunteers or activities."""
    words = args.split()
    kind = KINDS.get(words[0].lower()) if words else None
    if kind is None:
        ctx.reply(usage("导出 工时|任务|志愿者|活动 [地区] [开始日期 结束日期 | 2026-11 | 本月 | 上月] [xlsx|csv]",
                        EXAMPLE))
        return
    rest = words[1:]
    fmt = "xlsx"
    for word in list(rest):
        if word.lower() in FORMATS:
            fmt = FORMATS[word.lower()]
            rest.remove(word)
    date_words = [w for w in rest if _is_date_word(w)]
    region = " ".join(w for w in rest if not _is_date_word(w))
    today = local_today(ctx.now)
    period = parse_dates(date_words, today) if date_words else (today.replace(day=1), today)
    outcome = await export_sheet(ctx.act, kind=kind, region=region, period=period, fmt=fmt, private=not ctx.in_group)
    if isinstance(outcome, Refused):
        ctx.reply(outcome.reason)
    elif isinstance(outcome, Unreadable):
        ctx.reply(usage(f"日期写成 2026-11-01 2026-11-30，或 2026-11、本月、上月"
                        f"（在 {EARLIEST_DAY} 到 {LATEST_DAY} 之间）", EXAMPLE))
    elif isinstance(outcome, RegionNotFound):
        ctx.reply(outcome.text)
    else:
        start, end = outcome.period
        note = (f"\n只导出了前 {CHAT_ROW_LIMIT} 行；完整数据请缩短日期范围，或请运维用 xinfeng export 导出。"
                if outcome.cut else "")
        row = ctx.reply(f"📄 {outcome.unit.name} {start} 至 {end} 的{KIND_ZH[kind]}：共 {outcome.rows} 行，见附件。{note}")
        await attach(ctx.session, row, kind="document", filename=outcome.filename, mime=outcome.mime,
                     data=outcome.data, now=ctx.now)
