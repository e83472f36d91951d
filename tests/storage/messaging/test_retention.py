"""Retention: old finished rows go in batches; what is unfinished, failed or still needed stays."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from scheduler.job import JobRun
from scheduler.jobs.retention import PruneJob
from storage.messaging.retention import count_prunable, prune_batch
from storage.models import InboxMessage, OutboxMessage, ScheduleSend


async def _history(session, clock, tag: str = "") -> None:
    old, young = clock.now() - timedelta(days=120), clock.now() - timedelta(days=10)
    for i in range(7):
        session.add(InboxMessage(platform="t", message_id=f"{tag}old{i}", payload={}, received_at=old, status="processed"))
        session.add(OutboxMessage(platform="t", address="1", recipient_label="x", text="旧", kind="notice",
                                  created_at=old, sent_at=old, status="sent"))
        session.add(ScheduleSend(job="moral_day", period=f"2026-07{tag}", target_type="person", target_id=i,
                                   sent_at=old))
    # Kept: unhandled and failed inbox rows, undeliverable and pending outbox rows, a card a later
    # edit needs (`ref`), and everything young.
    session.add(InboxMessage(platform="t", message_id=f"{tag}stuck", payload={}, received_at=old, status="received"))
    session.add(InboxMessage(platform="t", message_id=f"{tag}broke", payload={}, received_at=old, status="failed"))
    session.add(OutboxMessage(platform="t", address="1", recipient_label="x", text="失败", created_at=old,
                              status="undeliverable"))
    session.add(OutboxMessage(platform="t", address="1", recipient_label="x", text="卡片", created_at=old,
                              sent_at=old, status="sent", ref="task:1"))
    session.add(InboxMessage(platform="t", message_id=f"{tag}new", payload={}, received_at=young, status="processed"))
    session.add(OutboxMessage(platform="t", address="1", recipient_label="x", text="新", created_at=young,
                              sent_at=young, status="sent"))
    session.add(ScheduleSend(job="moral_day", period=f"2026-11{tag}", target_type="person", target_id=1,
                               sent_at=young))
    await session.commit()


async def _counts(sessions) -> tuple[int, int, int]:
    async with sessions() as s:
        return tuple([int((await s.execute(select(func.count()).select_from(m))).scalar_one())
                      for m in (ScheduleSend, InboxMessage, OutboxMessage)])  # type: ignore[return-value]


async def test_a_batch_prunes_only_old_finished_rows(sessions, clock) -> None:
    async with sessions() as s:
        await _history(s, clock)
    before = clock.now() - timedelta(days=90)
    async with sessions() as s:
        found = await count_prunable(s, before=before)
        assert (found.sent_log, found.inbox, found.outbox) == (7, 7, 7)
        went = await prune_batch(s, before=before, batch=5)
        await s.commit()
        assert (went.sent_log, went.inbox, went.outbox) == (5, 5, 5)
    assert await _counts(sessions) == (3, 5, 5)


async def test_the_scheduler_job_prunes_in_batches_until_nothing_old_is_left(sessions, clock) -> None:
    async with sessions() as s:
        await _history(s, clock)
    run = JobRun(now=clock.now(), tz=clock.now().tzinfo)  # type: ignore[arg-type]
    assert run.retention_days == 90  # XINFENG_RETENTION_DAYS's default
    job = PruneJob(batch=3)
    assert await job.run(sessions, run) == 21
    assert await _counts(sessions) == (1, 3, 3)  # the young, the stuck, the failed, the card
    assert await PruneJob(batch=3).run(sessions, run) == 0  # nothing old is left
    async with sessions() as s:
        await _history(s, clock, tag="b")  # more old rows: the job waits its hour before looking again
    assert await job.run(sessions, JobRun(now=clock.now() + timedelta(minutes=59), tz=run.tz)) == 0
    assert await job.run(sessions, JobRun(now=clock.now() + timedelta(minutes=61), tz=run.tz)) == 21
    async with sessions() as s:
        kept = set((await s.execute(select(InboxMessage.message_id))).scalars())
    assert kept == {"stuck", "broke", "new", "bstuck", "bbroke", "bnew"}


async def test_the_age_is_the_runs_not_a_global(sessions, clock) -> None:
    """XINFENG_RETENTION_DAYS reaches the job through its run: a run keeping 400 days deletes none of the 120-day-old rows."""
    async with sessions() as s:
        await _history(s, clock)
    run = JobRun(now=clock.now(), tz=clock.now().tzinfo, retention_days=400)  # type: ignore[arg-type]
    assert await PruneJob(batch=3).run(sessions, run) == 0
