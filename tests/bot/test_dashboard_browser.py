"""The dashboard in a real headless browser (Debian's Chromium, driven by Playwright).

The real HTTP server runs on a free local port; admins log in through the one-time links the
bot sends in chat, drill down by clicking regions, and a station admin cannot see another
station. Skips only when Chromium is not installed (`.ci/run` installs it).
"""

from __future__ import annotations

import re
import shutil
from datetime import timedelta

import pytest
from playwright.async_api import async_playwright, expect

from storage.models.activities import Activity
from tests.bot.dashboard_server import server  # noqa: F401 — the fixture

CHROMIUM = shutil.which("chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
    # One backend is enough for a browser; the API tests cover PostgreSQL.
    pytest.mark.parametrize("engine", ["sqlite"], indirect=True),
]


async def _link(chat, name: str, base: str) -> str:
    out = await chat.send(name, "后台")
    found = re.search(r"/dashboard/login\?token=\S+", chat.last_to(name, out))
    assert found
    return base + found.group(0)


async def test_login_drill_down_and_scope_in_chromium(chat, server, tmp_path) -> None:
    await chat.send("王大娘", "奶奶八十多了，想请人来帮忙理个发")
    await chat.send("王大娘", "确认")
    async with chat.sessions() as s:
        start = chat.clock.now() + timedelta(days=1)
        s.add(Activity(team_id=chat.ids["PLD"], org_unit_id=chat.ids["PL"], title="包饺子·敬老", starts_at=start,
                       ends_at=start + timedelta(hours=2), capacity=20, checkin_code="1234", status="planned",
                       created_at=chat.clock.now()))
        await s.commit()
    center_link = await _link(chat, "中心管理员", server)
    station_link = await _link(chat, "蓬莱站长", server)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = await (await browser.new_context()).new_page()
            await page.goto(center_link)
            await expect(page.locator("body")).to_have_attribute("data-ready", "BP")
            assert page.url.endswith("/dashboard")  # the token left the address bar
            await expect(page.locator("#title")).to_have_text("北票市新时代文明实践中心（中心）")
            await expect(page.locator("#who")).to_have_text("中心管理员 · 北票市新时代文明实践中心")
            await expect(page.locator("#children tbody tr")).to_have_count(2)
            await expect(page.locator("#children-chart canvas")).to_be_visible()  # ECharts draws the bars

            await page.click("nav a[data-code='CG']")  # drill down through the tree
            await expect(page.locator("body")).to_have_attribute("data-ready", "CG")
            await expect(page.locator("#title")).to_have_text("城关街道新时代文明实践所（所）")
            await expect(page.locator("#trail li")).to_have_count(2)

            await page.click("#children tr[data-code='PL']")  # and again through the comparison table
            await expect(page.locator("body")).to_have_attribute("data-ready", "PL")
            await expect(page.locator("#title")).to_have_text("蓬莱社区新时代文明实践站（站）")
            await expect(page.locator("nav a.selected")).to_have_text("蓬莱社区新时代文明实践站")
            await expect(page.locator("#tasks tbody tr")).to_have_count(1)
            await expect(page.locator("#tasks tbody")).to_contain_text("待接单")
            await expect(page.locator("#activities tbody")).to_contain_text("包饺子·敬老")
            await expect(page.locator("#cards")).to_contain_text("任务1")
            await page.screenshot(path=str(tmp_path / "center.png"), full_page=True)

            station = await (await browser.new_context()).new_page()
            await station.goto(station_link)
            await expect(station.locator("body")).to_have_attribute("data-ready", "PL")
            await expect(station.locator("nav a[data-code]")).to_have_count(2)  # 蓬莱 and its point, nothing else
            await station.goto(station_link.split("/dashboard/login")[0] + "/dashboard#/unit/TJC")
            await expect(station.locator("#error")).to_have_text("无权查看该地区：它不在您的管辖范围内。")
            await expect(station.locator("#content")).to_be_hidden()
            status = await station.evaluate("fetch('/api/units/YS').then(r => r.status)")
            assert status == 403
            await station.screenshot(path=str(tmp_path / "station.png"), full_page=True)
        finally:
            await browser.close()
