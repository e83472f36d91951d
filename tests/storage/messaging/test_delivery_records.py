"""Storage of delivery: what is due, the one inline-delivery path, moves, events stored once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.messaging.inbox import record_event, store_inbound, unprocessed
from storage.messaging.outbox import claim, deliver_inline, mark_delivered, pending, undo_inline
from storage.messaging.reach import readdress_chat
from storage.messaging.wechat import choice_for
from storage.models import InboxMessage, OrgUnit, OutboxMessage, Team, TeamGroup


def _row(clock, address: str, text: str, **kw) -> OutboxMessage:
    return OutboxMessage(platform="wechat", address=address, recipient_label=address, text=text,
                         created_at=clock.now(), **kw)


async def test_pending_respects_not_before_and_keeps_each_chat_in_order(session, clock) -> None:
    now = clock.now()
    rows = [_row(clock, "a", "a1", not_before=now + timedelta(seconds=30)), _row(clock, "a", "a2"),
            _row(clock, "b", "b1", not_before=now - timedelta(seconds=1)), _row(clock, "c", "c1")]
    session.add_all(rows)
    await session.commit()
    due = await pending(session, platforms=["wechat"], include_unaddressed=False, now=now)
    assert [r.text for r in due] == ["b1", "c1"]  # a2 waits behind a1
    later = await pending(session, platforms=["wechat"], include_unaddressed=False, now=now + timedelta(seconds=30))
    assert [r.text for r in later] == ["a1", "a2", "b1", "c1"]


async def test_inline_delivery_claims_what_the_relay_did_not_take(session, clock) -> None:
    buttons = [{"label": "确认", "data": "确认"}, {"label": "取消", "data": "取消"}]
    rows = [_row(clock, "o1", "一", buttons=buttons), _row(clock, "o1", "二"),
            _row(clock, "o1", "三", buttons=[{"label": "接单", "data": "接单 #3"}])]
    session.add_all(rows)
    await session.commit()
    assert await claim(session, rows[1].id, now=clock.now())  # the relay took the second
    claimed = await deliver_inline(session, [r.id for r in rows], external_id="passive", now=clock.now(),
                                   numbered=True)
    await session.commit()
    assert [r.text for r in claimed] == ["一", "三"]
    statuses = (await session.execute(select(OutboxMessage.status, OutboxMessage.external_message_id)
                                      .order_by(OutboxMessage.id))).all()
    assert [tuple(s) for s in statuses] == [("sent", "passive"), ("sending", None), ("sent", "passive")]
    # The numbers shown run on across the claimed messages: 1 确认 · 2 取消, 3 接单.
    assert await choice_for(session, platform="wechat", chat_ids=["o1"], number=3, now=clock.now(),
                            ttl=timedelta(hours=1)) == "接单 #3"
    # Claimed again (a retry) — nothing; undone — back to the relay, and only those.
    assert await deliver_inline(session, [rows[0].id], external_id="passive", now=clock.now()) == []
    assert await undo_inline(session, [r.id for r in rows], external_id="passive") == 2
    await session.commit()
    due = await pending(session, platforms=["wechat"], include_unaddressed=False, now=clock.now())
    # "三" waits while "二", before it in the chat, is still being sent (by whichever worker).
    assert [r.text for r in due] == ["一"]


async def test_readdressing_a_chat_bound_twice_keeps_one_binding(session, clock) -> None:
    unit = OrgUnit(code="U", name="站", level="station", path="/")
    session.add(unit)
    await session.flush()
    team = Team(code="T", name="队", org_unit_id=unit.id, invite_code="T1")
    session.add(team)
    await session.flush()
    session.add_all([TeamGroup(team_id=team.id, platform="telegram", chat_id="-5", title="旧"),
                     TeamGroup(team_id=team.id, platform="telegram", chat_id="-1005", title="新"),
                     OutboxMessage(platform="telegram", address="-5", text="欠", created_at=clock.now()),
                     OutboxMessage(platform="telegram", address="-5", text="已发", status="sent",
                                   created_at=clock.now())])
    await session.flush()
    await readdress_chat(session, platform="telegram", old="-5", new="-1005")
    await session.commit()
    assert (await session.execute(select(TeamGroup.chat_id))).scalars().all() == ["-1005"]
    owed = (await session.execute(select(OutboxMessage.text, OutboxMessage.address).order_by(OutboxMessage.id))).all()
    assert [tuple(o) for o in owed] == [("欠", "-1005"), ("已发", "-5")]


async def test_an_event_is_recorded_once_and_never_recovered_as_a_message(session, clock) -> None:
    assert await record_event(session, platform="wechat", message_id="o1:1700", payload={"event": "gone"},
                              now=clock.now())
    assert not await record_event(session, platform="wechat", message_id="o1:1700", payload={"event": "gone"},
                                  now=clock.now())
    await session.commit()
    assert (await session.execute(select(InboxMessage.status))).scalars().all() == ["processed"]
    assert await unprocessed(session, "wechat") == []


async def test_unprocessed_can_leave_out_the_youngest(session, clock) -> None:
    await store_inbound(session, platform="wecom", message_id="1", payload={}, now=clock.now())
    clock.advance(minutes=2)
    await store_inbound(session, platform="wecom", message_id="2", payload={}, now=clock.now())
    older = await unprocessed(session, "wecom", received_before=clock.now() - timedelta(minutes=1))
    assert [m.message_id for m in older] == ["1"]
    assert [m.message_id for m in await unprocessed(session, "wecom")] == ["1", "2"]


async def test_delivery_batches_of_every_size_share_a_few_compiled_statements(engine, session, clock) -> None:
    """Sizes 1…20 make 6 statement shapes (powers of two), not 20: each shape stays in the engine's cache."""
    rows = [_row(clock, f"c{i}", str(i), status="sending") for i in range(210)]
    session.add_all(rows)
    await session.commit()
    cache = engine.sync_engine._compiled_cache
    before = len(cache)
    start = 0
    for n in range(1, 21):
        batch = rows[start:start + n]
        start += n
        assert await mark_delivered(session, [(r.id, f"m{r.id}") for r in batch], now=clock.now(), worker=None) == n
    await session.commit()
    assert len(cache) - before <= 6
    sent = (await session.execute(select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.external_message_id)
                                  )).all()
    assert sorted(tuple(r) for r in sent) == sorted((r.id, "sent", f"m{r.id}") for r in rows)
