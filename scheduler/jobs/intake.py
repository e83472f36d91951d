"""The intake's nightly learning: retrain the category model on the day's confirmed requests.

Once a night (03:00 region time, the quietest hour) the examples are read, a model is trained
outside any transaction (a few seconds for ten thousand examples, in a thread), and it is stored
in one transaction that opens the night's firing first: a second scheduler, or a run after a
restart, finds the firing and trains nothing twice. A night with no new example stores nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from handlers.language.learning import fit, install_model, store_fitted, training_due
from scheduler.job import NETWORK, Firing, JobRun, guard
from storage.db import Session, Sessions
from storage.scheduling.firings import fired_scopes, open_firing
from storage.scheduling.recurrence import period_of

RETRAIN_JOB = "intake_retrain"
RETRAIN_AT = time(3, 0)
# After downtime the night's training still happens that day, once.
GRACE = timedelta(hours=20)


def _latest_due(now: datetime, tz: tzinfo) -> datetime:
    """The most recent 03:00 (region time) at or before `now`."""
    local = now.astimezone(tz)
    at = datetime.combine(local.date(), RETRAIN_AT, tzinfo=tz)
    return at if at <= local else at - timedelta(days=1)


@dataclass(frozen=True)
class NightlyRetrain:
    """Train the category model on the stored examples, once a night."""

    name: str = RETRAIN_JOB

    async def run(self, sessions: Sessions, run: JobRun) -> int:
        """Train and store a model if tonight's training is owed; 1 if a model was stored."""
        due = _latest_due(run.now, run.tz)
        if run.now - due > GRACE:
            return 0
        period = period_of(due, run.tz)
        async with sessions() as reader:
            if (period, NETWORK) in await fired_scopes(reader, self.name, [period]):
                return 0
            training = await training_due(reader)
        fitted = await asyncio.to_thread(fit, training.examples) if training is not None else None
        async with sessions() as session:
            await guard(session, run.fence)
            opened = await open_firing(session, job=self.name, period=period, scope=NETWORK, due_at=due,
                                       now=run.now, fence_token=run.fence_token)
            if opened is None:  # another worker trained tonight a moment ago
                await session.rollback()
                return 0
            model_id = None
            if training is not None and fitted is not None:
                model_id = await store_fitted(session, training, fitted, run.now)
            await session.commit()
        if model_id is None or fitted is None:
            run.note(self.name, "没有新的样本，模型不变")
            return 0
        install_model(model_id, fitted.model)
        blended = f"{fitted.blended_accuracy:.1%}" if fitted.blended_accuracy is not None else "样本太少，未交叉验证"
        run.note(self.name, f"模型 #{model_id}：{fitted.examples} 条样本，交叉验证准确率 {blended}")
        return 1

    async def ahead(self, session: Session, now: datetime, end: datetime, tz: tzinfo) -> list[Firing]:
        """Nothing: `xinfeng jobs list` shows what will reach people, and a training sends nothing."""
        return []


NIGHTLY_RETRAIN_JOB = NightlyRetrain()
