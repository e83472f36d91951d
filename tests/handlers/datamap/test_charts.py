"""The 统计 chart: a real PNG whose Chinese labels are drawn with the installed CJK font, not as boxes."""

from __future__ import annotations

import io
import warnings
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from handlers.datamap.charts import STATUS_ZH, cjk_font, render_chart, short_name
from storage.datamap.figures import Figures, MonthFigures, month_window

NOW = datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)
LABELS = "北票市新时代文明实践中心数据地图截至志愿者人任务个服务时长小时近十二月台吉镇城关街道" + "".join(STATUS_ZH.values())


def _county() -> tuple[Figures, list[Figures]]:
    months = [MonthFigures(m, tasks=i % 4, hours=Decimal(i)) for i, m in enumerate(month_window(NOW, 12))]
    county = Figures(1, "BP", "北票市新时代文明实践中心", "center", volunteers=25, teams=8, months=months,
                     tasks_by_status={"closed": 7, "dispatched": 2}, hours=Decimal("56.5"))
    kids = [Figures(2, "BP-TJ", "台吉镇新时代文明实践所", "institute", volunteers=10, hours=Decimal(5),
                    tasks_by_status={"closed": 3}),
            Figures(3, "BP-CG", "城关街道新时代文明实践所", "institute", volunteers=11, hours=Decimal(20),
                    tasks_by_status={"closed": 4})]
    return county, kids


def _png_pixels(png: bytes):
    from matplotlib import image

    return image.imread(io.BytesIO(png), format="png")


def test_the_cjk_font_is_installed_and_known_to_matplotlib() -> None:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    path, family = cjk_font()
    assert any(f.fname == path for f in font_manager.fontManager.ttflist)
    assert font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False) == path
    font = FT2Font(path)
    missing = [c for c in LABELS if font.get_char_index(ord(c)) == 0]
    assert missing == []


def test_chart_renders_every_label_without_a_missing_glyph() -> None:
    county, kids = _county()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_chart(county, kids, "11月28日")
        station_png = render_chart(kids[0], [], "11月28日")
    assert not [w for w in caught if "missing from" in str(w.message)]
    for data in (png, station_png):
        pixels = _png_pixels(data)
        assert pixels.shape[0] > 300 and pixels.shape[1] == 1000
        title_band = pixels[: pixels.shape[0] // 12, 200:800, :3]
        assert (title_band < 0.5).any()  # the Chinese title is drawn in dark ink


def test_the_missing_glyph_check_would_catch_a_latin_only_font() -> None:
    """The guard above can fail: drawing Chinese in a Latin-only font does warn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    fig.suptitle("数据地图", fontfamily="DejaVu Sans")
    with pytest.warns(UserWarning, match="missing from"):
        fig.savefig(io.BytesIO(), format="png")


def test_short_names_fit_under_a_bar() -> None:
    assert short_name("蓬莱社区新时代文明实践站") == "蓬莱社区"
    assert short_name("北票市新时代文明实践中心") == "北票市"
    assert short_name("朝阳市") == "朝阳市"
