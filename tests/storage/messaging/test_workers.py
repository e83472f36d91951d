"""Delivery workers' rows: a live worker's beat saves it, and a send is recorded under the id it was claimed by."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.messaging.outbox import claim_many, mark_delivered, release
from storage.messaging.workers import beat, register_worker, still_dead
from storage.models import OutboxMessage

LEASE = timedelta(seconds=5)


def _rows(clock, n: int) -> list[OutboxMessage]:
    return [OutboxMessage(platform="telegram", address=str(100 + i), recipient_label=f"p{i}", text=f"t{i}",
                          created_at=clock.now()) for i in range(n)]


async def test_a_worker_is_still_dead_only_while_its_beat_stays_old(session, clock) -> None:
    worker = await register_worker(session, name="vm:1", journal=None, now=clock.now())
    await session.commit()
    clock.advance(seconds=6)
    assert await still_dead(session, worker, now=clock.now(), lease=LEASE)
    await session.rollback()
    assert await beat(session, worker, now=clock.now())  # it beat before the judge's transaction
    await session.commit()
    assert not await still_dead(session, worker, now=clock.now(), lease=LEASE)
    assert not await still_dead(session, 999, now=clock.now(), lease=LEASE)  # gone: nothing to take


async def test_a_delivery_is_recorded_if_its_row_was_given_back_but_not_taken_again(session, clock) -> None:
    rows = _rows(clock, 3)
    session.add_all(rows)
    await session.commit()
    stalled, other = 1, 2
    assert await claim_many(session, [r.id for r in rows], now=clock.now(), worker=stalled) == {r.id for r in rows}
    # Taken for dead during a stall: its rows go back; one of them is taken by another worker at once.
    assert await release(session, [r.id for r in rows], worker=stalled) == 3
    assert await claim_many(session, [rows[2].id], now=clock.now(), worker=other) == {rows[2].id}
    await session.commit()
    # The stalled worker had delivered all three: two are recorded, the third is the other's to send.
    changed = await mark_delivered(session, [(r.id, f"m{r.id}") for r in rows], now=clock.now(), worker=stalled)
    await session.commit()
    assert changed == 2
    found = {r.id: (r.status, r.external_message_id, r.claimed_by)
             for r in (await session.execute(select(OutboxMessage).execution_options(populate_existing=True))).scalars()}
    assert found == {rows[0].id: ("sent", f"m{rows[0].id}", None), rows[1].id: ("sent", f"m{rows[1].id}", None),
                     rows[2].id: ("sending", None, other)}
