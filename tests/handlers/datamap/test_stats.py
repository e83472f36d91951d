"""统计 in chat: figures, a map and a chart for an admin's scope, a named unit inside it, and refusals outside it.

The county (北票市) and the province have boundaries, so they get a map beside the chart (the
issue asked for one); a station has none, so it gets the chart alone.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry


def _pictures(out, chat, name):
    sent = [m for m in out if m.person_id == chat.ids[name]]
    files = {a.filename: a for m in sent for a in m.attachments}
    assert len(files) == sum(len(m.attachments) for m in sent)
    for picture in files.values():
        assert picture.kind == "photo" and picture.mime == "image/png"
        assert picture.data.startswith(b"\x89PNG\r\n\x1a\n") and picture.size == len(picture.data) > 10_000
    return files


def _chart(out, chat, name):
    files = _pictures(out, chat, name)
    assert "chart.png" in files, list(files)
    return files["chart.png"]


async def _serve_one_task(chat) -> None:
    await chat.send("王大娘", "奶奶八十多了，想请人来帮忙理个发")
    await chat.send("王大娘", "确认")
    chat.clock.advance(minutes=25)
    await chat.send("赵志愿", "接单 #1")
    await chat.send("赵志愿", "完成 #1 2小时")
    await chat.send("王大娘", "评价 #1 5")


async def test_center_admin_gets_county_figures_and_a_chart(chat) -> None:
    await _serve_one_task(chat)
    out = await chat.send("中心管理员", "统计")
    text = chat.last_to("中心管理员", out)
    assert "📊 北票市新时代文明实践中心" in text
    assert "下辖：所 2，站 3，点 1" in text
    assert "队伍 5 支" in text and "志愿者 8 人（近30天服务过 1 人）" in text
    assert "任务 1 个（已完成 1）" in text and "接单用时中位数 25 分钟" in text
    assert "服务时长 2 小时 · 受益群众 1 人次" in text
    assert list(_pictures(out, chat, "中心管理员")) == ["map.png", "chart.png"]
    assert "📍 地图：所在位置和下级单位排名" in text


async def test_admin_names_a_station_inside_the_scope(chat) -> None:
    await _serve_one_task(chat)
    out = await chat.send("中心管理员", "统计 蓬莱")
    text = chat.last_to("中心管理员", out)
    assert text.startswith("📊 蓬莱社区新时代文明实践站") and "下辖：点 1" in text
    assert "志愿者 2 人" in text and "任务 1 个（已完成 1）" in text
    assert list(_pictures(out, chat, "中心管理员")) == ["chart.png"]  # a station has no boundary
    out = await chat.send("蓬莱站长", "统计")
    assert chat.last_to("蓬莱站长", out).startswith("📊 蓬莱社区新时代文明实践站")


async def test_station_admin_cannot_see_another_station(chat) -> None:
    out = await chat.send("蓬莱站长", "统计 台吉村")
    text = chat.last_to("蓬莱站长", out)
    assert "不在您的管辖范围内" in text and "📊" not in text
    assert not [a for m in out for a in m.attachments]
    out = await chat.send("蓬莱站长", "统计 北票")  # the county above is outside a station's scope too
    assert "不在您的管辖范围内" in chat.last_to("蓬莱站长", out)
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.action == "stats",
                                                           AuditEntry.outcome == "refused"))).scalars().all()
    assert len(refused) == 2 and all(r.actor_id == chat.ids["蓬莱站长"] for r in refused)


async def test_unknown_region_and_plain_volunteer(chat) -> None:
    out = await chat.send("城关所长", "统计 火星村")
    assert "没有找到「火星村」" in chat.last_to("城关所长", out)
    await _serve_one_task(chat)
    out = await chat.send("赵志愿", "统计")
    assert "志愿时长 2 小时" in chat.last_to("赵志愿", out)
    out = await chat.send("赵志愿", "统计 蓬莱")
    assert "只有该地区的站长" in chat.last_to("赵志愿", out)
    assert not [a for m in out for a in m.attachments]


async def test_a_last_word_chooses_the_figure_and_is_no_part_of_the_region(chat) -> None:
    out = await chat.send("中心管理员", "统计 北票 时长")
    text = chat.last_to("中心管理员", out)
    assert text.startswith("📊 北票市新时代文明实践中心")
    out = await chat.send("中心管理员", "统计 蓬莱 任务")
    assert chat.last_to("中心管理员", out).startswith("📊 蓬莱社区新时代文明实践站")
