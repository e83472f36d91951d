"""道德日 in chat: anyone sees the rule that applies to them; admins set it for their own subtree only."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry
from storage.models.scheduling import ScheduleRule


async def _audits(chat, action: str) -> list[tuple[str, int | None]]:
    async with chat.sessions() as s:
        rows = (await s.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))).scalars()
        return [(a.outcome, a.target_id) for a in rows]


async def test_a_center_admin_sets_the_day_and_villagers_see_it_inherited(chat) -> None:
    out = await chat.send("中心管理员", "道德日 每月5日 8点")
    reply = chat.last_to("中心管理员", out)
    assert "北票市新时代文明实践中心及下属单位的道德活动日为每月5日 08:00" in reply
    assert "下次：12月5日（星期六）08:00" in reply
    assert await _audits(chat, "moral_day_set") == [("ok", chat.ids["BP"])]

    out = await chat.send("赵志愿", "道德日")
    shown = chat.last_to("赵志愿", out)
    assert "每月5日 08:00（沿用北票市新时代文明实践中心的设置）" in shown
    assert "修改" not in shown  # no admin hints for a volunteer


async def test_a_station_overrides_within_its_own_scope_only(chat) -> None:
    await chat.send("中心管理员", "道德日 每月5日 8点")
    out = await chat.send("蓬莱站长", "道德日 每月第一个周六 上午9点")
    assert "每月第一个周六 09:00" in chat.last_to("蓬莱站长", out)
    out = await chat.send("赵志愿", "道德日")
    assert "蓬莱社区新时代文明实践站：每月第一个周六 09:00\n" in chat.last_to("赵志愿", out) + "\n"

    out = await chat.send("蓬莱站长", "道德日 台吉 每月6日 8点")
    assert "不在您管辖的范围内" in chat.last_to("蓬莱站长", out)
    async with chat.sessions() as s:
        units = set((await s.execute(select(ScheduleRule.org_unit_id))).scalars())
    assert units == {chat.ids["BP"], chat.ids["PL"]}
    assert ("refused", chat.ids["TJ"]) in await _audits(chat, "moral_day_set")


async def test_an_admin_names_a_unit_inside_their_subtree(chat) -> None:
    out = await chat.send("中心管理员", "道德日 台吉 每月最后一个周五 下午3点")
    assert "台吉镇新时代文明实践所及下属单位的道德活动日为每月最后一个周五 15:00" in chat.last_to("中心管理员", out)


async def test_volunteers_may_look_but_not_set(chat) -> None:
    out = await chat.send("赵志愿", "道德日 每月6日 8点")
    assert "只有文明实践中心、所、站的管理员可以设置道德活动日" in chat.last_to("赵志愿", out)
    assert await _audits(chat, "moral_day_set") == [("refused", None)]
    out = await chat.send("赵志愿", "道德日")
    assert "还没有设置道德活动日" in chat.last_to("赵志愿", out)


async def test_bad_rules_get_an_example_not_a_guess(chat) -> None:
    for bad in ("道德日 每月32日", "道德日 明天上午", "道德日 每月5日 25点", "道德日 每月第五个周六"):
        out = await chat.send("中心管理员", bad)
        assert "例如：道德日 每月5日 8点" in chat.last_to("中心管理员", out)
    async with chat.sessions() as s:
        assert (await s.execute(select(ScheduleRule))).first() is None


async def test_switch_off_and_follow_the_unit_above_again(chat) -> None:
    await chat.send("中心管理员", "道德日 每月31日 20:30")
    out = await chat.send("中心管理员", "道德日")
    assert "每月31日 20:30（当月没有这一天时，在月末最后一天）" in chat.last_to("中心管理员", out)
    out = await chat.send("城关所长", "道德日 关闭")
    assert "已关闭城关街道新时代文明实践所及下属单位的道德活动日提醒" in chat.last_to("城关所长", out)
    out = await chat.send("赵志愿", "道德日")
    assert "道德活动日提醒已关闭（沿用城关街道新时代文明实践所的设置）" in chat.last_to("赵志愿", out)
    out = await chat.send("城关所长", "道德日 跟随上级")
    assert "今后跟随上级的道德活动日" in chat.last_to("城关所长", out)
    out = await chat.send("城关所长", "道德日 跟随上级")
    assert "本来就跟随上级设置" in chat.last_to("城关所长", out)
    assert [o for o, _ in await _audits(chat, "moral_day_set")] == ["ok", "ok", "ok"]
