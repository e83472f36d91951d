"""Charts for 统计: a PNG of a subtree's children side by side and its last twelve months, in Chinese.

Every panel carries one unit on its axis (人, 个, 小时); children beyond what fits are summed up
in a line under the bars, never dropped silently; months carry their year where it changes.

Rendered with matplotlib's Agg backend (no display, no pyplot state), in the CJK font the
project installs: Debian's `fonts-wqy-microhei` (WenQuanYi Micro Hei), installed by `.ci/run`
and `make`. Noto Sans CJK or another CJK font is used when that one is absent; with none at
all `render_chart` raises `ChartUnavailable` and the bot answers with text only — a chart of
empty boxes (豆腐块) would be worse than none.
"""

from __future__ import annotations

import io
import re
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

from storage.datamap.figures import Figures

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
_CJK_NAME = re.compile(r"wqy|wenquanyi|notosanscjk|notoserifcjk|sourcehan|droidsansfallback", re.I)
STATUS_ZH = {"submitted": "待派单", "dispatched": "待接单", "accepted": "已接单", "completed": "待评价",
             "closed": "已完成", "cancelled": "已取消"}
WISH_ZH = {"submitted": "待发布", "published": "待认领", "claimed": "已认领", "fulfilled": "待确认", "confirmed": "已实现"}
_SUFFIX = re.compile(r"(新时代)?(文明实践)?(中心|所|站|点)$")


class ChartUnavailable(RuntimeError):
    """No CJK font is installed, so a chart would show boxes instead of Chinese."""


@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, str]:
    """The CJK font file and its family name, registered with matplotlib's font manager."""
    from matplotlib import font_manager

    paths = [p for p in FONT_CANDIDATES if Path(p).is_file()]
    if not paths:
        paths = sorted(p for p in font_manager.findSystemFonts() if _CJK_NAME.search(Path(p).name))
    if not paths:
        raise ChartUnavailable("no CJK font found (install fonts-wqy-microhei)")
    path = paths[0]
    font_manager.fontManager.addfont(path)
    return path, font_manager.FontProperties(fname=path).get_name()


def short_name(name: str) -> str:
    """A unit's name without "新时代文明实践站" and the like, to fit under a bar."""
    return _SUFFIX.sub("", name).strip() or name


MAX_CHILDREN = 15


def month_labels(months: list[str]) -> list[str]:
    """"2025-12", "2026-01", "2026-02" → "2025年12月", "2026年1月", "2月": the year where it changes."""
    out = []
    for i, month in enumerate(months):
        year, number = month[:4], int(month[5:])
        out.append(f"{year}年{number}月" if i == 0 or months[i - 1][:4] != year else f"{number}月")
    return out


def _value_text(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".") if value % 1 else f"{int(value):,}"


def _bars(ax: Any, labels: list[str], values: list[float], title: str, unit: str, color: str,
          rest: str = "") -> None:
    """Horizontal bars of one figure, its unit on the axis; `rest` sums up what did not fit."""
    from matplotlib.ticker import MaxNLocator

    ys = list(range(len(labels)))
    ax.barh(ys, values, color=color)
    ax.set_yticks(ys, labels)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=11)
    top = max(values) if values else 0
    for y, v in zip(ys, values):
        ax.text(v + top * 0.02, y, _value_text(v), va="center", fontsize=8)
    ax.set_xlim(0, top * 1.3 if top else 1)
    ax.set_xlabel(unit + (f"\n{rest}" if rest else ""), fontsize=9)
    if unit != "小时":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="y", labelsize=9)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _children_panels(fig: Any, grid: Any, children: list[Figures]) -> None:
    """Volunteers, tasks and hours of each child, largest first; more than fit are summed up, not dropped."""
    ranked = sorted(children, key=lambda c: (-c.volunteers, -c.tasks, c.code))
    shown, rest = ranked[:MAX_CHILDREN], ranked[MAX_CHILDREN:]
    labels = [short_name(c.name) for c in shown]
    panels = (("志愿者", "人", "#3b7dd8", lambda c: float(c.volunteers)),
              ("任务", "个", "#e0803a", lambda c: float(c.tasks)),
              ("服务时长", "小时", "#3aa76d", lambda c: float(c.hours)))
    for i, (what, unit, color, value) in enumerate(panels):
        more = f"另有 {len(rest)} 个单位，合计 {_value_text(sum(value(c) for c in rest))} {unit}" if rest else ""
        _bars(fig.add_subplot(grid[0, i]), labels, [value(c) for c in shown], f"{what}（{unit}）", unit, color, more)


def _own_panels(fig: Any, grid: Any, fig_data: Figures) -> None:
    """A unit without children to compare: its tasks by status, its people, its wishes — one unit each."""
    statuses = [s for s in STATUS_ZH if fig_data.tasks_by_status.get(s)] or list(STATUS_ZH)[:3]
    _bars(fig.add_subplot(grid[0, 0]), [STATUS_ZH[s] for s in statuses],
          [fig_data.tasks_by_status.get(s, 0) for s in statuses], "任务状态（个）", "个", "#e0803a")
    _bars(fig.add_subplot(grid[0, 1]), ["志愿者", "近30天服务"],
          [fig_data.volunteers, fig_data.active_volunteers], "志愿者（人）", "人", "#3b7dd8")
    wishes = [s for s in WISH_ZH if fig_data.wishes_by_status.get(s)] or list(WISH_ZH)[:3]
    _bars(fig.add_subplot(grid[0, 2]), [WISH_ZH[s] for s in wishes],
          [fig_data.wishes_by_status.get(s, 0) for s in wishes], "微心愿（个）", "个", "#8e5bd0")


def _trend(fig: Any, grid: Any, fig_data: Figures) -> None:
    """Tasks and hours per month, one chart each (each with its own unit), months with their year."""
    from matplotlib.ticker import MaxNLocator

    months = fig_data.months
    xs = list(range(len(months)))
    labels = month_labels([m.month for m in months])
    tasks = fig.add_subplot(grid[1, :])
    tasks.bar(xs, [m.tasks for m in months], color="#e0803a", label="任务（个）")
    tasks.set_ylabel("任务（个）", fontsize=9)
    # Counts start at zero and a quiet year still shows a scale of whole tasks.
    tasks.set_ylim(0, max(1, max((m.tasks for m in months), default=0)) * 1.15)
    tasks.yaxis.set_major_locator(MaxNLocator(integer=True))
    tasks.set_xticks(xs, labels, fontsize=8)
    tasks.set_title("近十二个月：每月任务与服务时长", fontsize=11)
    tasks.legend(loc="upper left", fontsize=8)
    hours = fig.add_subplot(grid[2, :], sharex=tasks)
    hours.plot(xs, [float(m.hours) for m in months], color="#3aa76d", marker="o", label="服务时长（小时）")
    hours.set_ylabel("服务时长（小时）", fontsize=9)
    hours.set_ylim(0, max(1.0, max((float(m.hours) for m in months), default=0.0)) * 1.15)
    hours.set_xticks(xs, labels, fontsize=8)
    hours.legend(loc="upper left", fontsize=8)
    for ax in (tasks, hours):
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)


def render_chart(fig_data: Figures, children: list[Figures], as_of: str) -> bytes:
    """The chart as PNG bytes: children side by side (or the unit's own figures), then the monthly trend."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _, family = cjk_font()
    with matplotlib.rc_context({"font.family": [family], "axes.unicode_minus": False}):
        rows = min(max(len(children), 3), MAX_CHILDREN)
        fig = Figure(figsize=(10, 5.4 + 0.28 * rows), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        grid = fig.add_gridspec(3, 3, height_ratios=[max(1.2, 0.14 * rows), 0.8, 0.8])
        fig.suptitle(f"{fig_data.name} 统计图（截至 {as_of}）", fontsize=14)
        # A station's only child is often an empty point: compare children only when they differ from nothing.
        if children and any(c.volunteers or c.tasks or c.hours for c in children):
            _children_panels(fig, grid, children)
        else:
            _own_panels(fig, grid, fig_data)
        _trend(fig, grid, fig_data)
        buf = io.BytesIO()
        with warnings.catch_warnings():
            # A glyph missing from the font must never pass silently: it would print as a box.
            warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing from.*")
            fig.savefig(buf, format="png")
    return buf.getvalue()
