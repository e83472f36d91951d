"""关注: a new follower is welcomed, asked for their village, and a bare village name answers."""

from __future__ import annotations


async def test_a_new_follower_is_asked_for_the_village_and_a_name_answers(chat) -> None:
    out = await chat.send("新来的", "/follow")
    assert "欢迎关注" in chat.last_to("新来的", out) and "村" in chat.last_to("新来的", out)
    out = await chat.send("新来的", "杨树村")
    assert "已登记您在「杨树村新时代文明实践站」" in chat.last_to("新来的", out)


async def test_something_else_than_a_village_is_handled_as_usual(chat) -> None:
    await chat.send("新来的", "/follow")
    out = await chat.send("新来的", "帮助")
    assert "我能帮您" in chat.last_to("新来的", out)
    out = await chat.send("新来的", "家里水管冻裂了，需要人帮忙修")
    assert "注册" in chat.last_to("新来的", out)  # the request waits for the village, as always


async def test_known_people_are_welcomed_back(chat) -> None:
    out = await chat.send("赵志愿", "/follow")
    assert "欢迎回来，赵志愿" in chat.last_to("赵志愿", out)


async def test_a_scene_with_an_invite_joins_the_team(chat) -> None:
    out = await chat.send("新队员", "/follow join_PLD2026")
    assert "加入「蓬莱社区志愿服务队」" in chat.last_to("新队员", out)
