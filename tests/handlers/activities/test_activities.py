"""活动 → 确认 → 报名 → 候补 → 取消报名, through the fake channel, as captains and volunteers.

The network is conftest's small county: 陈刚 captains 科技服务队 (姜兆彤, 刘农技, 孙科技, 陈刚);
蓬莱社区志愿服务队 has 赵志愿 and 钱志愿; the clock stands on Saturday 2026-11-28 09:00 (Beijing).
"""

from __future__ import annotations

from sqlalchemy import select

from handlers.core.messages import InboundMessage, Media
from storage.models import AuditEntry, RoleGrant, TeamGroup
from storage.models.activities import Activity, ActivitySignup

CREATE = "活动 明天上午9点 村文化广场 包饺子 限2人"


async def _raw(chat, name: str, text: str, *, media: tuple[Media, ...] = (), group: str | None = None):
    """Send a message the harness cannot: with media, or from a group chat."""
    pid = await chat.person_id(name)
    chat._seq += 1
    msg = InboundMessage(platform="test", user_id=f"u{pid}", chat_id=group or f"u{pid}", text=text,
                         message_id=f"raw{chat._seq}", user_name=name, media=media,
                         chat_type="group" if group else "private")
    before = len(chat.channel.sent)
    await chat.engine.handle(msg)
    await chat.relay.deliver_pending()
    return chat.channel.sent[before:]


async def _publish(chat, text: str = CREATE, captain: str = "陈刚"):
    out = await chat.send(captain, text)
    assert "请确认活动" in chat.last_to(captain, out), chat.last_to(captain, out)
    return await chat.send(captain, "确认")


async def test_captain_publishes_and_the_team_is_told_with_a_signup_button(chat) -> None:
    out = await chat.send("陈刚", CREATE)
    draft = chat.last_to("陈刚", out)
    assert "内容：包饺子" in draft and "地点：村文化广场" in draft and "名额：2 人" in draft
    assert "11月29日（周日）09:00–11:00" in draft and "队伍：科技服务队" in draft
    assert [b.data for b in out[-1].buttons] == ["确认", "取消"]

    out = await chat.send("陈刚", "确认")
    done = chat.last_to("陈刚", out)
    async with chat.sessions() as s:
        activity = (await s.execute(select(Activity))).scalar_one()
    assert f"活动 #{activity.id}【包饺子】已发布到「科技服务队」（送达 3 处）" in done
    assert f"签到码：{activity.checkin_code}" in done
    card = [m for m in out if m.person_id == chat.ids["刘农技"]][0]
    assert "活动 #1【包饺子】" in card.text and "名额：2 人" in card.text
    assert [b.data for b in card.buttons] == ["报名 #1"]
    assert activity.checkin_code not in card.text  # the code is shown on site, not sent ahead
    assert not chat.to("赵志愿", out)  # another team
    async with chat.sessions() as s:
        assert (await s.execute(select(AuditEntry).where(AuditEntry.action == "activity_create"))).scalar_one()


async def test_signups_past_capacity_wait_and_a_cancellation_promotes_the_first(chat) -> None:
    await _publish(chat)
    assert "报名成功" in chat.last_to("姜兆彤", await chat.send("姜兆彤", "报名 #1"))
    assert "报名成功" in chat.last_to("刘农技", await chat.send("刘农技", "报名 1号"))
    out = await chat.send("孙科技", "报名＃1")
    assert "2 个名额已经报满" in chat.last_to("孙科技", out) and "候补第 1 位" in chat.last_to("孙科技", out)
    out = await chat.send("陈刚", "/signup 1")
    assert "候补第 2 位" in chat.last_to("陈刚", out)
    assert "已经报名" in chat.last_to("刘农技", await chat.send("刘农技", "报名 #1"))
    assert "的候补名单上，排第 1 位" in chat.last_to("孙科技", await chat.send("孙科技", "报名 #1"))

    out = await chat.send("姜兆彤", "取消报名 #1")
    assert "已取消" in chat.last_to("姜兆彤", out) and "递补" in chat.last_to("姜兆彤", out)
    promoted = [m for m in out if m.person_id == chat.ids["孙科技"]][0]
    assert "已从候补转为活动 #1【包饺子】的正式报名" in promoted.text
    assert [b.data for b in promoted.buttons] == ["取消报名 #1"]
    assert not chat.to("陈刚", out)  # still waiting, now first
    out = await chat.send("陈刚", "活动 #1")
    assert "候补第 1 位" in chat.last_to("陈刚", out)
    async with chat.sessions() as s:
        rows = {r.volunteer_id: r.status for r in (await s.execute(select(ActivitySignup))).scalars()}
    assert rows == {chat.ids["姜兆彤"]: "cancelled", chat.ids["刘农技"]: "signed",
                    chat.ids["孙科技"]: "signed", chat.ids["陈刚"]: "waitlisted"}
    assert "您没有报名" in chat.last_to("姜兆彤", await chat.send("姜兆彤", "取消报名 #1"))


async def test_only_leaders_may_publish(chat) -> None:
    out = await chat.send("刘农技", CREATE)
    assert "只有队长或管理员可以发布活动" in chat.last_to("刘农技", out)
    async with chat.sessions() as s:
        refusal = (await s.execute(select(AuditEntry).where(AuditEntry.outcome == "refused"))).scalar_one()
        assert refusal.action == "activity_create" and refusal.actor_id == chat.ids["刘农技"]
        assert (await s.execute(select(Activity))).first() is None
    # A captain naming a team they do not lead is refused too.
    out = await chat.send("陈刚", CREATE + " 队伍:蓬莱社区志愿服务队")
    assert "不是「蓬莱社区志愿服务队」的队长" in chat.last_to("陈刚", out)


async def test_a_station_admin_publishes_for_the_team_at_their_station(chat) -> None:
    out = await _publish(chat, "活动 明天下午2点 蓬莱社区 理发 限5人", captain="蓬莱站长")
    assert "已发布到「蓬莱社区志愿服务队」（送达 2 处）" in chat.last_to("蓬莱站长", out)
    assert "理发" in chat.last_to("赵志愿", out)


async def test_a_captain_of_two_teams_chooses(chat) -> None:
    async with chat.sessions() as s:
        s.add(RoleGrant(person_id=chat.ids["陈刚"], role="captain", team_id=chat.ids["WY"]))
        await s.commit()
    out = await chat.send("陈刚", "活动 明天上午9点 文化广场 秧歌 限10人")
    ask = out[-1]
    assert "哪个队伍" in ask.text and [b.data for b in ask.buttons] == ["科技服务队", "文艺志愿服务队"]
    out = await chat.send("陈刚", "文艺志愿服务队")
    assert "队伍：文艺志愿服务队" in chat.last_to("陈刚", out)
    out = await chat.send("陈刚", "1")
    assert "已发布到「文艺志愿服务队」" in chat.last_to("陈刚", out)
    assert "秧歌" in chat.last_to("张文艺", out) and not chat.to("刘农技", out)


async def test_an_activity_can_name_a_project_of_its_unit_or_above(chat) -> None:
    assert "新建项目「周末文化广场」" in chat.last_to("中心管理员", await chat.send("中心管理员", "项目 周末文化广场"))
    out = await chat.send("陈刚", CREATE + " 项目:周末文化广场")
    assert "项目：周末文化广场" in chat.last_to("陈刚", out)
    await chat.send("陈刚", "确认")
    async with chat.sessions() as s:
        assert (await s.execute(select(Activity.project_id))).scalar_one() is not None
    out = await chat.send("陈刚", CREATE + " 项目:德耀北票")
    assert "没有找到「德耀北票」项目" in chat.last_to("陈刚", out)


async def test_unclear_sentences_get_a_polite_question(chat) -> None:
    assert "请写上活动时间" in chat.last_to("陈刚", await chat.send("陈刚", "活动 村文化广场 包饺子"))
    assert "几点开始" in chat.last_to("陈刚", await chat.send("陈刚", "活动 明天上午 村文化广场 包饺子"))
    assert "已经过了" in chat.last_to("陈刚", await chat.send("陈刚", "活动 今天上午8点 包饺子"))
    assert "活动内容" in chat.last_to("陈刚", await chat.send("陈刚", "活动 明天上午9点 限5人"))
    out = await chat.send("陈刚", CREATE)
    assert "好的，活动没有发布" in chat.last_to("陈刚", await chat.send("陈刚", "取消"))
    async with chat.sessions() as s:
        assert (await s.execute(select(Activity))).first() is None


async def test_residents_cannot_sign_up_and_bad_numbers_are_explained(chat) -> None:
    await _publish(chat)
    assert "先加入志愿服务队" in chat.last_to("王大娘", await chat.send("王大娘", "报名 #1"))
    assert "没有找到活动 #9" in chat.last_to("刘农技", await chat.send("刘农技", "报名 #9"))
    assert "报名 #活动号" in chat.last_to("刘农技", await chat.send("刘农技", "报名"))


async def test_no_signups_after_the_start(chat) -> None:
    await _publish(chat)
    chat.clock.advance(days=1)
    assert "已经开始或结束" in chat.last_to("刘农技", await chat.send("刘农技", "报名 #1"))


async def test_listing_and_showing_activities(chat) -> None:
    await _publish(chat)
    await chat.send("刘农技", "报名 #1")
    listing = chat.last_to("刘农技", await chat.send("刘农技", "活动"))
    assert "活动 #1 11月29日（周日）09:00–11:00【包饺子】2 人（已报 1）" in listing
    shown = chat.last_to("刘农技", await chat.send("刘农技", "活动 #1"))
    assert "您：已报名" in shown and "签到码" not in shown
    async with chat.sessions() as s:
        code = (await s.get(Activity, 1)).checkin_code
    assert f"签到码：{code}" in chat.last_to("陈刚", await chat.send("陈刚", "活动 1号"))
    assert "近期没有活动" in chat.last_to("赵志愿", await chat.send("赵志愿", "活动"))


async def test_the_team_group_gets_the_card_and_a_press_there_signs_up(chat) -> None:
    async with chat.sessions() as s:
        s.add(TeamGroup(team_id=chat.ids["KJ"], platform="test", chat_id="g-kj", title="科技服务队群"))
        await s.commit()
    out = await _publish(chat)
    group = [m for m in out if m.address == "g-kj"]
    assert len(group) == 1 and group[0].buttons[0].data == "报名 #1"
    assert "送达 4 处" in chat.last_to("陈刚", out)
    out = await _raw(chat, "刘农技", "报名 #1", group="g-kj")
    assert any("报名成功" in m.text and m.address == "g-kj" for m in out)


async def test_a_location_sent_with_the_draft_enables_location_check_in(chat) -> None:
    await chat.send("陈刚", CREATE)
    out = await _raw(chat, "陈刚", "", media=(Media("location", "41.8,120.77"),))
    assert "已记下活动位置" in chat.last_to("陈刚", out) and "位置签到：已设定" in chat.last_to("陈刚", out)
    await chat.send("陈刚", "确认")
    async with chat.sessions() as s:
        activity = await s.get(Activity, 1)
        assert (activity.latitude, activity.longitude) == (41.8, 120.77)


async def test_a_villagers_request_that_starts_like_a_command_is_still_a_request(chat) -> None:
    out = await chat.send("王大娘", "活动室的暖气不热了，想请人来看看")
    assert "请确认您的需求" in chat.last_to("王大娘", out)
    out = await chat.send("王大娘", "广播喇叭坏了，想请人帮忙修一下")
    assert "请确认您的需求" in chat.last_to("王大娘", out)
    # With a space it is the command, and a polite refusal.
    assert "只有本队队长可以广播" in chat.last_to("王大娘", await chat.send("王大娘", "广播 大家好"))


async def test_the_check_in_code_never_appears_in_a_group(chat) -> None:
    async with chat.sessions() as s:
        s.add(TeamGroup(team_id=chat.ids["KJ"], platform="test", chat_id="g-kj", title="科技服务队群"))
        await s.commit()
    await _raw(chat, "陈刚", CREATE, group="g-kj")
    out = await _raw(chat, "陈刚", "确认", group="g-kj")
    async with chat.sessions() as s:
        code = (await s.get(Activity, 1)).checkin_code
    assert all(code not in m.text for m in out)
    assert any("签到码：请私聊我查看" in m.text for m in out)
    out = await _raw(chat, "陈刚", "活动 #1", group="g-kj")
    assert all(code not in m.text for m in out)
    assert f"签到码：{code}" in chat.last_to("陈刚", await chat.send("陈刚", "活动 #1"))
