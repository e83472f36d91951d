"""The whole 点单→派单→接单→完成→评单 loop across WeChat: a resident on the Official Account
(encrypted mode), volunteers on WeCom with their team's group chat."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.models import HoursEntry, Person, Task, TeamGroup
from storage.people.identities import link_identity


async def _volunteers_on_wecom(world) -> str:
    """赵志愿 and 钱志愿 (蓬莱社区志愿服务队) use WeCom; their team gets a WeCom group chat."""
    ids = world.chat.ids
    async with world.chat.sessions() as s:
        for name, userid in (("赵志愿", "zhaozhiyuan"), ("钱志愿", "qianzhiyuan")):
            await link_identity(s, platform="wecom", external_id=userid, person_id=ids[name],
                                now=world.chat.clock.now())
            world.fake.wecom.members.add(userid)
        # 赵志愿 takes tasks from the group only (no direct messages).
        (await s.get(Person, ids["赵志愿"])).dm_opt_in = False
        await s.commit()
    return await world.wecom.create_team_group(ids["PLD"])


@pytest.mark.both_backends
async def test_resident_on_the_official_account_volunteers_on_wecom(world) -> None:
    clock, fake = world.chat.clock, world.fake
    chat_id = await _volunteers_on_wecom(world)
    assert set(fake.wecom.chats[chat_id]["userlist"]) == {"zhaozhiyuan", "qianzhiyuan"}
    assert await world.wecom.create_team_group(world.chat.ids["PLD"]) == chat_id  # idempotent

    # 点单: a new follower registers and describes the need; every answer is a passive reply.
    assert "欢迎关注" in (await world.resident.event("o-grandma", "subscribe")).reply
    assert "已登记" in (await world.resident.text("o-grandma", "蓬莱社区")).reply
    draft = (await world.resident.text("o-grandma", "我家隔壁的孤寡老人想请人来帮忙理个发")).reply
    assert "请确认" in draft and "助老助残" in draft and "回复 1 确认 · 2 取消" in draft
    done = (await world.resident.text("o-grandma", "1")).reply
    assert "任务号是 #1" in done and "蓬莱社区志愿服务队" in done

    # 派单: the offer goes into the team's WeCom group, and to 钱志愿 as an app message.
    await world.settle()
    [offer] = fake.wecom.chat_texts(chat_id)
    assert "#1" in offer and "回复 1 接单" in offer
    assert fake.wecom.texts_to("qianzhiyuan") and not fake.wecom.texts_to("zhaozhiyuan")

    # 接单: 赵志愿 replies "1" to the app; it stands for the group's 「接单」.
    won = (await world.member.text("zhaozhiyuan", "1")).reply
    assert "接单成功" in won and "回复 1 完成 · 2 放弃" in won
    await world.settle()
    [told] = fake.oa.texts_to("o-grandma")  # inside the 48-hour window: customer-service message
    assert "赵志愿" in told and "接了您的任务 #1" in told
    taken = (await world.member.text("qianzhiyuan", "接单 #1")).reply
    assert "已经有人接了" in taken

    # 完成, two days later: the resident's window has closed, so the rating request is a template.
    clock.advance(hours=49)
    assert "辛苦了" in (await world.member.text("zhaozhiyuan", "完成 #1 2小时")).reply
    await world.settle()
    assert len(fake.oa.texts_to("o-grandma")) == 1
    [template] = fake.oa.templates_to("o-grandma")
    assert template["template_id"] == "TPL_TASK_UPDATE"
    assert "评价 #1" in template["data"]["content"]["value"]
    assert "回复 1 ★★★★★" in template["data"]["remark"]["value"]

    # 评单: the resident answers the template with "1" (five stars); the volunteer hears on WeCom.
    thanks = (await world.resident.text("o-grandma", "1")).reply
    assert "谢谢您的评价" in thanks
    await world.settle()
    assert "2 小时" in fake.wecom.texts_to("zhaozhiyuan")[-1]

    async with world.chat.sessions() as s:
        task = await s.get(Task, 1)
        assert task.status == "closed" and task.rating == 5
        assert (await s.execute(select(func.sum(HoursEntry.hours)))).scalar_one() == 2
        assert (await s.execute(select(func.count(TeamGroup.id)))).scalar_one() == 1
    assert fake.wecom.dropped == []
    assert fake.oa.tokens.fetches == 2 and fake.wecom.tokens.fetches == 2  # both expired in the 49 h


async def test_a_group_needs_two_members_on_wecom(world) -> None:
    with pytest.raises(ValueError, match="至少需要 2 人"):
        await world.wecom.create_team_group(world.chat.ids["PLD"])
    assert world.fake.wecom.chats == {}
