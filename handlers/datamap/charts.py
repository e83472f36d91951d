"""Charts for 统计: a PNG of a subtree's children side by side and its last twelve months, in Chinese.

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


def _bars(ax: Any, labels: list[str], values: list[float], title: str, color: str, integer: bool = True) -> None:
    from matplotlib.ticker import MaxNLocator

    ys = list(range(len(labels)))
    ax.barh(ys, values, color=color)
    ax.set_yticks(ys, labels)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=11)
    top = max(values) if values else 0
    for y, v in zip(ys, values):
        ax.text(v + top * 0.02, y, f"{v:g}", va="center", fontsize=8)
    ax.set_xlim(0, top * 1.25 if top else 1)
    if integer:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="y", labelsize=9)


def render_chart(fig_data: Figures, children: list[Figures], as_of: str) -> bytes:
    """The chart as PNG bytes: children side by side (or tasks by status), then the monthly trend."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    _, family = cjk_font()
    with matplotlib.rc_context({"font.family": [family], "axes.unicode_minus": False}):
        rows = max(len(children), 3)
        fig = Figure(figsize=(10, 3.6 + 0.28 * min(rows, 20)), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        grid = fig.add_gridspec(2, 3, height_ratios=[max(1.2, 0.14 * min(rows, 20)), 1])
        fig.suptitle(f"{fig_data.name} 数据地图（截至 {as_of}）", fontsize=14)
        # A station's only child is often an empty point: compare children only when they differ from nothing.
        if children and any(c.volunteers or c.tasks or c.hours for c in children):
            shown = children[:20]
            labels = [short_name(c.name) for c in shown]
            _bars(fig.add_subplot(grid[0, 0]), labels, [c.volunteers for c in shown], "志愿者（人）", "#3b7dd8")
            _bars(fig.add_subplot(grid[0, 1]), labels, [c.tasks for c in shown], "任务（个）", "#e0803a")
            _bars(fig.add_subplot(grid[0, 2]), labels, [float(c.hours) for c in shown], "服务时长（小时）", "#3aa76d",
                  integer=False)
        else:
            statuses = [s for s in STATUS_ZH if fig_data.tasks_by_status.get(s)] or list(STATUS_ZH)[:3]
            _bars(fig.add_subplot(grid[0, 0]), [STATUS_ZH[s] for s in statuses],
                  [fig_data.tasks_by_status.get(s, 0) for s in statuses], "任务状态（个）", "#e0803a")
            people = {"志愿者": fig_data.volunteers, "近30天活跃": fig_data.active_volunteers, "队伍": fig_data.teams}
            _bars(fig.add_subplot(grid[0, 1]), list(people), list(people.values()), "队伍与志愿者", "#3b7dd8")
            service = {"服务时长": float(fig_data.hours), "受益人次": fig_data.beneficiaries,
                       "活动": fig_data.activities, "走访": fig_data.pairing_visits}
            _bars(fig.add_subplot(grid[0, 2]), list(service), list(service.values()), "服务成效", "#3aa76d",
                  integer=False)
        trend = fig.add_subplot(grid[1, :])
        months = fig_data.months
        xs = list(range(len(months)))
        trend.bar(xs, [m.tasks for m in months], color="#e0803a", label="任务（个）")
        trend.set_xticks(xs, [f"{int(m.month[5:])}月" for m in months], fontsize=9)
        trend.set_title("近十二个月", fontsize=11)
        trend.set_ylabel("任务（个）", fontsize=9)
        trend.yaxis.set_major_locator(MaxNLocator(integer=True))
        hours_axis = trend.twinx()
        hours_axis.plot(xs, [float(m.hours) for m in months], color="#3aa76d", marker="o", label="服务时长（小时）")
        hours_axis.set_ylabel("服务时长（小时）", fontsize=9)
        handles = trend.get_legend_handles_labels()[0] + hours_axis.get_legend_handles_labels()[0]
        trend.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize=8)
        buf = io.BytesIO()
        with warnings.catch_warnings():
            # A glyph missing from the font must never pass silently: it would print as a box.
            warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing from.*")
            fig.savefig(buf, format="png")
    return buf.getvalue()
