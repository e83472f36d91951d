"""The dashboard's login and JSON API (httpx over ASGI): one-time links, scope checks, figures."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import delete, select

from bot.dashboard import COOKIE, dashboard_routes
from bot.web import build_app
from storage.datamap.boundaries import Boundaries
from storage.datamap.divisions import package_root
from storage.datamap.sent_files import file_link
from storage.messaging.attachments import attach
from storage.models import OutboxMessage, RoleGrant
from storage.models.dashboard import DashboardLink


async def _link(chat, name: str, args: str = "") -> str:
    out = await chat.send(name, f"后台 {args}".strip())
    text = chat.last_to(name, out)
    found = re.search(r"http://\S+/dashboard/login\?token=(\S+)", text)
    assert found, text
    return found.group(1)


@pytest.fixture
async def client(chat):
    app = build_app(dashboard_routes(chat.sessions, chat.clock))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


async def _login(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/dashboard/login", params={"token": token})


async def test_link_logs_in_once_and_the_api_shows_the_scope(chat, client) -> None:
    await chat.send("王大娘", "奶奶八十多了，想请人来帮忙理个发")
    await chat.send("王大娘", "确认")
    token = await _link(chat, "中心管理员")
    async with chat.sessions() as s:
        stored = (await s.execute(select(DashboardLink))).scalars().one()
    assert token not in stored.token_hash and len(stored.token_hash) == 64  # only a hash is kept

    assert (await client.get("/api/me")).status_code == 401
    assert (await client.get("/dashboard")).status_code == 401
    response = await _login(client, token)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    assert "httponly" in response.headers["set-cookie"].lower() and COOKIE in client.cookies
    page = await client.get("/dashboard")
    assert page.status_code == 200 and "数据地图" in page.text
    assert '<script src="/dashboard/static/dashboard.js"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert (await client.get("/dashboard/static/dashboard.js")).status_code == 200
    assert (await client.get("/dashboard/static/..%2Fdashboard.py")).status_code == 404

    me = (await client.get("/api/me")).json()
    assert me == {"name": "中心管理员", "scope": {"code": "BP", "name": "北票市新时代文明实践中心", "level": "center"}}
    county = (await client.get("/api/units/BP")).json()
    assert county["unit"]["units"] == {"institute": 2, "station": 3, "point": 1}
    assert county["unit"]["tasks_by_status"] == {"dispatched": 1} and len(county["unit"]["months"]) == 12
    assert [c["code"] for c in county["children"]] == ["CG", "TJ"]
    assert county["children"][0]["volunteers"] == 2 and county["trail"] == [{"code": "BP", "name": "北票市新时代文明实践中心"}]
    station = (await client.get("/api/units/PL")).json()
    assert [t["code"] for t in station["trail"]] == ["BP", "CG", "PL"]
    latest = (await client.get("/api/units/CG/latest")).json()
    assert latest["tasks"][0]["unit"] == "蓬莱社区新时代文明实践站" and latest["tasks"][0]["status"] == "待接单"
    assert "phone" not in latest["tasks"][0]
    assert (await client.get("/api/units/LN")).status_code == 403  # the province is above the county
    assert (await client.get("/api/units/NOPE")).status_code == 404

    client.cookies.clear()
    again = await _login(client, token)
    assert again.status_code == 403 and "已经用过或已过期" in again.text


async def test_station_admin_cannot_see_another_station(chat, client) -> None:
    assert (await _login(client, await _link(chat, "蓬莱站长"))).status_code == 303
    assert (await client.get("/api/units/PL")).status_code == 200
    for other in ("YS", "TJC", "CG", "BP"):
        response = await client.get(f"/api/units/{other}")
        assert response.status_code == 403 and "无权查看" in response.json()["message"]
        assert (await client.get(f"/api/units/{other}/latest")).status_code == 403
    # 后台 naming another station in chat is refused before any link is made.
    out = await chat.send("蓬莱站长", "后台 台吉村")
    assert "不在您的管辖范围内" in chat.last_to("蓬莱站长", out)


async def test_links_expire_sessions_end_and_roles_can_be_revoked(chat, client) -> None:
    stale = await _link(chat, "城关所长")
    chat.clock.advance(minutes=11)
    assert (await _login(client, stale)).status_code == 403
    assert (await _login(client, await _link(chat, "城关所长", "蓬莱"))).status_code == 303
    me = (await client.get("/api/me")).json()
    assert me["scope"]["code"] == "PL"  # a link bound to a region inside the scope sees only that region
    assert (await client.get("/api/units/CG")).status_code == 403
    async with chat.sessions() as s:
        await s.execute(delete(RoleGrant).where(RoleGrant.person_id == chat.ids["城关所长"]))
        await s.commit()
    assert (await client.get("/api/me")).status_code == 401


async def test_logout_and_non_admins(chat, client) -> None:
    assert (await _login(client, await _link(chat, "台吉站长"))).status_code == 303
    assert (await client.post("/dashboard/logout")).status_code == 200
    assert (await client.get("/api/me")).status_code == 401
    out = await chat.send("赵志愿", "后台")
    assert "只对站长、所长和中心管理员开放" in chat.last_to("赵志愿", out)
    assert (await _login(client, "made-up-token")).status_code == 403
    assert (await client.get("/dashboard/login")).status_code == 403


MAP_INSTALLED = Boundaries(package_root()).available


async def test_the_map_endpoint_serves_the_units_on_their_boundaries_gzipped(chat, client) -> None:
    assert (await _login(client, await _link(chat, "中心管理员"))).status_code == 303
    response = await client.get("/api/units/BP/map", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    data = response.json()
    assert set(data) >= {"available", "kind", "note", "metrics", "geo", "regions", "unmapped"}
    assert [u["code"] for u in data["unmapped"]] == ["CG", "TJ"]  # towns have no boundaries
    if MAP_INSTALLED:
        assert data["kind"] == "county" and response.headers["content-encoding"] == "gzip"
        [focus] = [r for r in data["regions"] if r["focus"]]
        assert focus["code"] == "BP" and focus["values"]["volunteers"] == 8
        assert len(data["geo"]["features"]) == len(data["regions"]) == 7
    else:
        assert not data["available"] and "没有安装" in data["note"]
    assert (await client.get("/api/units/LN/map")).status_code == 403  # above the scope
    assert (await client.get("/api/units/PL/map")).json()["kind"] == ""  # a station: no map


async def test_static_files_are_gzipped_and_revalidated_and_echarts_comes_from_the_package(
        chat, client, tmp_path, monkeypatch) -> None:
    script = await client.get("/dashboard/static/dashboard.js", headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200 and script.headers["content-encoding"] == "gzip"
    assert "renderMap" in script.text
    again = await client.get("/dashboard/static/dashboard.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304
    vendor = await client.get("/dashboard/static/echarts.min.js")
    assert vendor.status_code == (200 if MAP_INSTALLED else 404)
    monkeypatch.setenv("XINFENG_MAP_DATA", str(tmp_path))  # packages not installed: no ECharts, no error
    assert (await client.get("/dashboard/static/echarts.min.js")).status_code == 404
    assert (await client.get("/dashboard/static/package.json")).status_code == 404


async def test_sent_files_open_only_for_their_recipient_and_links_lead_only_inside(chat, client) -> None:
    async with chat.sessions() as s:
        row = OutboxMessage(platform="console", address="x", recipient_label="中心管理员",
                            person_id=chat.ids["中心管理员"], text="📄", created_at=chat.clock.now())
        s.add(row)
        await s.flush()
        await attach(s, row, kind="document", filename="工时 11月.csv", mime="text/csv", data=b"a,b\r\n",
                     now=chat.clock.now())
        token = await file_link(s, chat.ids["中心管理员"], chat.clock.now())
        other = await file_link(s, chat.ids["城关所长"], chat.clock.now())
        assert await file_link(s, chat.ids["赵志愿"], chat.clock.now()) is None  # links go to admins only
        await s.commit()
    assert (await client.get(f"/dashboard/sent/{row.id}")).status_code == 401
    login = await client.get("/dashboard/login", params={"token": token, "next": f"/dashboard/sent/{row.id}"})
    assert login.headers["location"] == f"/dashboard/sent/{row.id}"
    page = await client.get(f"/dashboard/sent/{row.id}")
    assert page.status_code == 200 and "工时 11月.csv" in page.text
    got = await client.get(f"/dashboard/sent/{row.id}/0")
    assert got.content == b"a,b\r\n" and "filename*=UTF-8''%E5%B7%A5%E6%97%B6" in got.headers["content-disposition"]
    assert (await client.get(f"/dashboard/sent/{row.id}/1")).status_code == 404
    client.cookies.clear()
    elsewhere = await client.get("/dashboard/login", params={"token": other, "next": "https://evil.example/"})
    assert elsewhere.headers["location"] == "/dashboard"
    assert (await client.get(f"/dashboard/sent/{row.id}")).status_code == 404  # not theirs
    assert (await client.get(f"/dashboard/sent/{row.id}/0")).status_code == 404
