"""The dashboard on a phone (390×844) and a desktop (1440×900) in headless Chromium: nothing wider
than the screen, no text squeezed to a character a line, every figure visible; a county clicked on
the province's map opens its figures; without ECharts installed the page says so and shows tables.

Skips only when Chromium is not installed (`.ci/run` installs it); the map parts need the npm
packages `make` installs.
"""

from __future__ import annotations

import shutil

import pytest
from playwright.async_api import async_playwright, expect

from storage.datamap.dashboard_links import create_link
from storage.datamap.divisions import package_root
from storage.models import Person, RoleGrant
from tests.bot.dashboard_server import server  # noqa: F401 — the fixture

CHROMIUM = shutil.which("chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ECHARTS = (package_root() / "echarts" / "dist" / "echarts.min.js").is_file()
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1440, "height": 900}

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
    pytest.mark.parametrize("engine", ["sqlite"], indirect=True),
]

# Each element with text of two characters or more is at least two characters wide, and nothing
# reaches past the right edge of the screen (the tables scroll inside their own box instead).
LAYOUT = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('h1, h2, h3, .card .label, .card .value, .trail li, .chips button, th, #who')) {
    const r = el.getBoundingClientRect();
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (r.width && el.textContent.trim().length >= 2 && r.width < 1.8 * size) bad.push('narrow: ' + el.textContent);
    if (r.width && !el.closest('.scroll, .chips') && r.right > innerWidth + 1) bad.push('wide: ' + el.textContent);
  }
  return {bad, scroll: document.documentElement.scrollWidth, width: innerWidth};
}"""


async def _province_links(chat, n: int) -> list[str]:
    """One-time links for a province admin (the test county's network has 辽宁省 above 北票市)."""
    async with chat.sessions() as s:
        admin = Person(name="省管理员", phone="13900009999", org_unit_id=chat.ids["LN"], created_at=chat.clock.now())
        s.add(admin)
        await s.flush()
        s.add(RoleGrant(person_id=admin.id, role="admin", org_unit_id=chat.ids["LN"]))
        tokens = [await create_link(session=s, person_id=admin.id, org_unit_id=chat.ids["LN"], now=chat.clock.now())
                  for _ in range(n)]
        await s.commit()
    return [f"/dashboard/login?token={t}" for t in tokens]


async def _check_layout(page, shot: str) -> None:
    await page.screenshot(path=shot, full_page=True)
    found = await page.evaluate(LAYOUT)
    assert found["bad"] == [] and found["scroll"] <= found["width"], found
    cards = page.locator("#cards .card")
    await expect(cards).to_have_count(10)
    for i in range(10):
        await expect(cards.nth(i)).to_be_visible()


@pytest.mark.skipif(not ECHARTS, reason="the npm packages are not installed (run make)")
async def test_phone_and_desktop_show_every_figure_and_the_map(chat, server, tmp_path) -> None:
    links = await _province_links(chat, 2)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            for viewport, link in zip((PHONE, DESKTOP), links):
                page = await (await browser.new_context(viewport=viewport)).new_page()
                errors: list[str] = []
                page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
                await page.goto(server + link)
                await expect(page.locator("body")).to_have_attribute("data-ready", "LN")
                await expect(page.locator("body")).to_have_attribute("data-map", "shown")
                await _check_layout(page, str(tmp_path / f"province-{viewport['width']}.png"))
                for box in ("#map", "#children-chart", "#months-chart"):
                    canvas = page.locator(f"{box} canvas").first
                    await expect(canvas).to_be_visible()
                    assert (await canvas.bounding_box())["width"] >= 300
                assert errors == []  # no CSP violation, no missing asset
                # The tree is a drawer on the phone, a sidebar on the desktop.
                assert await page.locator("nav#tree a[data-code='LN']").is_visible() == (viewport is DESKTOP)
                if viewport is PHONE:
                    await page.click("#menu")
                    await page.click("nav#tree a[data-code='BP']")
                    await expect(page.locator("body")).to_have_attribute("data-ready", "BP")
                    await expect(page.locator("nav#tree a[data-code='BP']")).to_be_hidden()  # the drawer closed
                    await _check_layout(page, str(tmp_path / "county-phone.png"))
        finally:
            await browser.close()


@pytest.mark.skipif(not ECHARTS, reason="the npm packages are not installed (run make)")
async def test_clicking_a_county_on_the_map_opens_its_figures_on_a_phone(chat, server, tmp_path) -> None:
    [link] = await _province_links(chat, 1)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await (await browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)).new_page()
            await page.goto(server + link)
            await expect(page.locator("body")).to_have_attribute("data-map", "shown")
            await page.locator("#map").scroll_into_view_if_needed()
            # Where 北票市 lies on the canvas: the middle of its outline's points, through ECharts' projection.
            x, y = await page.evaluate("""async () => {
              const data = await (await fetch('/api/units/LN/map')).json();
              const region = data.geo.features.find((f) => f.properties.name === '北票市');
              const ring = region.geometry.coordinates[0][0];
              const mid = [0, 1].map((i) => ring.reduce((a, p) => a + p[i], 0) / ring.length);
              const chart = echarts.getInstanceByDom(document.getElementById('map'));
              const [px, py] = chart.convertToPixel({seriesIndex: 0}, mid);
              const box = document.getElementById('map').getBoundingClientRect();
              return [box.left + px, box.top + py];
            }""")
            await page.mouse.click(x, y)
            await expect(page.locator("body")).to_have_attribute("data-ready", "BP")
            await expect(page.locator("#title")).to_have_text("北票市新时代文明实践中心（中心）")
            await expect(page.locator("#cards")).to_contain_text("志愿者8")
            await expect(page.locator("#map-heading")).to_have_text("地图：本县（市、区）的位置")
            await page.screenshot(path=str(tmp_path / "after-click.png"), full_page=True)
        finally:
            await browser.close()


async def test_without_echarts_the_page_says_so_and_shows_tables(chat, server, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XINFENG_MAP_DATA", str(tmp_path / "no-packages"))
    [link] = await _province_links(chat, 1)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await (await browser.new_context(viewport=PHONE)).new_page()
            await page.goto(server + link)
            await expect(page.locator("body")).to_have_attribute("data-ready", "LN")
            await expect(page.locator("#charts-note")).to_contain_text("图表组件（ECharts）没有安装")
            await expect(page.locator("#map-note")).to_contain_text("没有安装")
            await expect(page.locator("#map")).to_be_hidden()
            await expect(page.locator("#children tbody tr")).to_have_count(1)
            await expect(page.locator("#months tbody tr")).to_have_count(12)
            await _check_layout(page, str(tmp_path / "no-echarts.png"))
        finally:
            await browser.close()
