"""The chat map and the chart's rules: titles and legends in Chinese, one unit per axis, months with
their year, and more children than fit summed up instead of cut off."""

from __future__ import annotations

import io
import warnings
from datetime import datetime, timezone
from decimal import Decimal

from handlers.datamap.charts import _children_panels, _own_panels, cjk_font, month_labels
from handlers.datamap.maps import MAX_BARS, _bars, render_map, split_metric
from storage.datamap.choropleth import MapArea, UnitMap
from storage.datamap.figures import Figures, MonthFigures, month_window

NOW = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)


def _square(x: float, y: float) -> list[list[list[tuple[float, float]]]]:
    return [[[(x, y), (x + 1, y), (x + 1, y + 1), (x, y + 1), (x, y)]]]


def _kids(n: int) -> list[Figures]:
    return [Figures(10 + i, f"K{i}", f"第{i}镇新时代文明实践所", "institute", volunteers=100 - i, hours=Decimal(i),
                    tasks_by_status={"closed": i}) for i in range(n)]


def _city(n: int) -> UnitMap:
    kids = _kids(n)
    unit = Figures(1, "CY", "朝阳市", "city", volunteers=sum(k.volunteers for k in kids),
                   months=[MonthFigures(m) for m in month_window(NOW, 12)])
    areas = [MapArea("建平县", _square(0, 0)), MapArea("北票市", _square(1, 0), unit=kids[0]),
             MapArea("凌源市", _square(0, 1), unit=kids[1])]
    return UnitMap(unit=unit, areas=areas, children=kids, unmapped=kids[2:], kind="counties")


def _pixels(png: bytes):
    from matplotlib import image

    return image.imread(io.BytesIO(png), format="png")


def test_the_map_renders_in_chinese_with_its_legend() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        city = render_map(_city(20), "volunteers", "11月28日")
        county = _city(3)
        county.kind = "county"
        county.areas[1].focus = True
        located = render_map(county, "hours", "11月28日")
    assert not [w for w in caught if "missing from" in str(w.message)]
    for png in (city, located):
        pixels = _pixels(png)
        assert pixels.shape[:2] == (640, 1000)
        assert (pixels[: pixels.shape[0] // 12, 200:800, :3] < 0.5).any()  # the title is drawn
        assert (abs(pixels[:, :, 0] - pixels[:, :, 2]) > 0.3).any()  # some region is coloured


def test_more_children_than_fit_are_summed_up_not_dropped() -> None:
    from matplotlib.figure import Figure

    cjk_font()
    ax = Figure().add_subplot()
    _bars(ax, _city(20), "volunteers", "志愿者", "人")
    assert len(ax.get_yticks()) == MAX_BARS
    rest = sum(100 - i for i in range(MAX_BARS, 20))
    assert ax.get_xlabel() == f"志愿者（人）\n另有 5 个单位，合计 {rest:,} 人"


def test_each_chart_panel_has_one_unit_and_the_rest_is_summed_up() -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    grid = fig.add_gridspec(3, 3)
    _children_panels(fig, grid, _kids(18))
    assert [ax.get_title() for ax in fig.axes] == ["志愿者（人）", "任务（个）", "服务时长（小时）"]
    assert [ax.get_xlabel().split("\n")[0] for ax in fig.axes] == ["人", "个", "小时"]
    assert all("另有 3 个单位" in ax.get_xlabel() for ax in fig.axes)
    station = Figure()
    _own_panels(station, station.add_gridspec(3, 3), _kids(1)[0])
    assert [ax.get_title() for ax in station.axes] == ["任务状态（个）", "志愿者（人）", "微心愿（个）"]


def test_months_carry_the_year_where_it_changes() -> None:
    assert month_labels(["2025-12", "2026-01", "2026-02"]) == ["2025年12月", "2026年1月", "2月"]
    assert month_labels(["2026-03", "2026-04"]) == ["2026年3月", "4月"]


def test_a_last_word_chooses_the_figure() -> None:
    assert split_metric("北票 时长") == ("北票", "hours")
    assert split_metric("任务") == ("", "tasks")
    assert split_metric("蓬莱社区") == ("蓬莱社区", "volunteers")
