"""Check-in codes cannot be guessed (issue 12): six digits, five wrong tries per person, then ten minutes' wait.

Before, four digits fell to 60 guesses in 1.5 s. The clock is the test's: no sleeping.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.activities.activities import new_checkin_code
from storage.models import AuditEntry
from storage.models.activities import Activity


async def _activity(chat) -> str:
    await chat.send("陈刚", "活动 今天上午10点 村文化广场 包饺子 限5人")
    await chat.send("陈刚", "确认")
    for name in ("姜兆彤", "刘农技"):
        await chat.send(name, "报名 #1")
    async with chat.sessions() as s:
        return (await s.get(Activity, 1)).checkin_code


def test_codes_are_six_digits() -> None:
    codes = {new_checkin_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes) and len(codes) > 150


async def test_five_wrong_codes_lock_the_person_for_ten_minutes(chat) -> None:
    code = await _activity(chat)
    assert len(code) == 6
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    chat.clock.advance(minutes=50)
    replies = [chat.last_to("姜兆彤", await chat.send("姜兆彤", f"签到 #1 {wrong}")) for _ in range(5)]
    assert "还可以再试 4 次" in replies[0] and "还可以再试 1 次" in replies[3]
    assert "请 10 分钟后再试" in replies[4]
    # Locked: even the right code is not compared now.
    locked = chat.last_to("姜兆彤", await chat.send("姜兆彤", f"签到 #1 {code}"))
    assert "错了太多次" in locked and "签到成功" not in locked
    # The lock is per person: 刘农技 checks in.
    assert "签到成功" in chat.last_to("刘农技", await chat.send("刘农技", f"签到 #1 {code}"))
    chat.clock.advance(minutes=4)
    assert "请 6 分钟后再试" in chat.last_to("姜兆彤", await chat.send("姜兆彤", f"签到 #1 {code}"))
    chat.clock.advance(minutes=6)
    assert "签到成功" in chat.last_to("姜兆彤", await chat.send("姜兆彤", f"签到 #1 {code}"))
    async with chat.sessions() as s:
        refused = (await s.execute(select(AuditEntry).where(AuditEntry.action == "checkin",
                                                            AuditEntry.outcome == "refused")
                                   .order_by(AuditEntry.id))).scalars().all()
    assert [r.detail["reason"] for r in refused] == ["wrong_code"] * 5 + ["locked"] * 2
    assert {(r.actor_id, r.target_type, r.target_id) for r in refused} == {(chat.ids["姜兆彤"], "activity", 1)}
    assert refused[4].detail["locked_until"] is not None


async def test_sixty_guesses_get_nowhere(chat) -> None:
    code = await _activity(chat)
    chat.clock.advance(minutes=50)
    guesses = [f"{n:06d}" for n in range(60) if f"{n:06d}" != code]
    for guess in guesses[:60]:
        out = await chat.send("姜兆彤", f"签到 #1 {guess}")
        assert "签到成功" not in chat.last_to("姜兆彤", out)
    async with chat.sessions() as s:
        audits = (await s.execute(select(AuditEntry).where(AuditEntry.action == "checkin",
                                                           AuditEntry.outcome == "refused"))).scalars().all()
    assert sum(a.detail["reason"] == "wrong_code" for a in audits) == 5
