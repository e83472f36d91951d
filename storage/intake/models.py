"""Trained category models (点单模型), kept as bytes so every worker uses the same one.

The newest row is the model in use; a few older ones are kept to compare with and to go back to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from storage.db import Session
from storage.models.intake import IntakeModel

__all__ = ["KEEP", "ModelInfo", "latest_model_id", "latest_model_info", "model_data", "save_model"]

KEEP = 5  # models kept, the newest included


@dataclass(frozen=True)
class ModelInfo:
    """What a stored model was trained on and how well it did (without its bytes)."""

    id: int
    trained_at: datetime
    format: str
    examples: int
    last_example_id: int | None
    blend: float
    lexicon_accuracy: float | None
    blended_accuracy: float | None
    size: int


_INFO = (IntakeModel.id, IntakeModel.trained_at, IntakeModel.format, IntakeModel.examples,
         IntakeModel.last_example_id, IntakeModel.blend, IntakeModel.lexicon_accuracy,
         IntakeModel.blended_accuracy, IntakeModel.size)


async def save_model(
    session: Session,
    *,
    data: bytes,
    format: str,
    trained_at: datetime,
    examples: int,
    last_example_id: int | None,
    blend: float,
    lexicon_accuracy: float | None,
    blended_accuracy: float | None,
) -> int:
    """Store a newly trained model as the one in use and drop all but the `KEEP` newest; its id."""
    row = IntakeModel(data=data, format=format, trained_at=trained_at, examples=examples,
                      last_example_id=last_example_id, blend=blend, lexicon_accuracy=lexicon_accuracy,
                      blended_accuracy=blended_accuracy, size=len(data))
    session.add(row)
    await session.flush()
    keep = select(IntakeModel.id).order_by(IntakeModel.id.desc()).limit(KEEP).scalar_subquery()
    await session.execute(delete(IntakeModel).where(IntakeModel.id.not_in(keep)))
    return int(row.id)


async def latest_model_id(session: Session) -> int | None:
    """The id of the model in use, None before the first training."""
    return await session.scalar(select(IntakeModel.id).order_by(IntakeModel.id.desc()).limit(1))


async def latest_model_info(session: Session) -> ModelInfo | None:
    """What the model in use was trained on, None before the first training."""
    row = (await session.execute(select(*_INFO).order_by(IntakeModel.id.desc()).limit(1))).first()
    return None if row is None else ModelInfo(*row)


async def model_data(session: Session, model_id: int) -> bytes | None:
    """The bytes of one stored model, None if it is gone."""
    data = await session.scalar(select(IntakeModel.data).where(IntakeModel.id == model_id))
    return None if data is None else bytes(data)
