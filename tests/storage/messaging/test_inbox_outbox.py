"""Inbound dedupe and outbound delivery records."""

from __future__ import annotations

from sqlalchemy import select

from storage.messaging.inbox import store_inbound, unprocessed
from storage.messaging.outbox import apply_outcome, claim, enqueue_to_person, pending
from storage.messaging.outcomes import Delivered, Refused, TemporaryFailure
from storage.models import OutboxMessage, Person
from storage.people.identities import link_identity


async def test_a_message_id_is_stored_once(session, clock) -> None:
    first = await store_inbound(session, platform="telegram", message_id="42", payload={"t": 1}, now=clock.now())
    again = await store_inbound(session, platform="telegram", message_id="42", payload={"t": 1}, now=clock.now())
    other = await store_inbound(session, platform="wechat", message_id="42", payload={}, now=clock.now())
    assert first is not None and again is None and other is not None
    assert [m.message_id for m in await unprocessed(session, "telegram")] == ["42"]


async def test_outbox_addresses_the_most_recent_account_and_is_claimed_once(session, clock) -> None:
    person = Person(name="甲", created_at=clock.now())
    session.add(person)
    await session.flush()
    await link_identity(session, platform="wechat", external_id="o1", person_id=person.id, now=clock.now())
    clock.advance(minutes=1)
    await link_identity(session, platform="telegram", external_id="77", person_id=person.id, now=clock.now())
    row = await enqueue_to_person(session, person=person, text="你好", now=clock.now())
    await session.commit()
    assert (row.platform, row.address) == ("telegram", "77")
    due = await pending(session, platforms=["telegram"], include_unaddressed=False, now=clock.now())
    assert [r.id for r in due] == [row.id]
    assert await pending(session, platforms=["wechat"], include_unaddressed=False, now=clock.now()) == []
    assert await claim(session, row.id, now=clock.now())
    assert not await claim(session, row.id, now=clock.now())
    assert await apply_outcome(session, row, Delivered("m1"), now=clock.now()) == "sent"
    await session.commit()


async def test_failures_are_kept_never_dropped(session, clock) -> None:
    person = Person(name="乙", created_at=clock.now())
    session.add(person)
    await session.flush()
    row = await enqueue_to_person(session, person=person, text="x", now=clock.now())
    await session.flush()
    assert row.platform is None  # no chat account yet: only the console can show it
    await claim(session, row.id, now=clock.now())
    await apply_outcome(session, row, TemporaryFailure("timeout"), now=clock.now())
    await session.commit()
    assert (await session.get(OutboxMessage, row.id, populate_existing=True)).status == "pending"
    await claim(session, row.id, now=clock.now())
    await apply_outcome(session, row, Refused("blocked"), now=clock.now())
    await session.commit()
    stored = (await session.execute(select(OutboxMessage).where(OutboxMessage.id == row.id))).scalar_one()
    await session.refresh(stored)
    assert stored.status == "undeliverable" and stored.attempts == 2 and stored.error == "blocked"
