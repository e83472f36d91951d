"""Tables for the intake's learning (点单学习): labelled requests, and the models trained on them.

Every request whose category a villager confirmed, chose or corrected is an example; a nightly
job (and `xinfeng intake retrain`) trains a classifier on them and stores it here as bytes, so
that every worker reads the same model.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, UTCDateTime


class IntakeExample(Base):
    """A request text with the category a person settled on, and where that label came from."""

    __tablename__ = "intake_examples"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(16))
    # "confirmed" (the guess was accepted), "chosen" (picked from the offered choices),
    # "corrected" (changed by the villager or an admin), "imported".
    source: Mapped[str] = mapped_column(String(16))
    # What the parser had guessed, when known: how often it is right is the report's first figure.
    guessed: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class IntakeModel(Base):
    """A trained category model: its bytes, what it was trained on, and how well it did."""

    __tablename__ = "intake_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime)
    format: Mapped[str] = mapped_column(String(32))
    examples: Mapped[int] = mapped_column(Integer)
    # The newest example it saw: a later one means there is something new to learn.
    last_example_id: Mapped[int | None] = mapped_column(BigId)
    # How much the blend with the lexicon trusts the model, chosen by cross-validation.
    blend: Mapped[float] = mapped_column(Float)
    lexicon_accuracy: Mapped[float | None] = mapped_column(Float)
    blended_accuracy: Mapped[float | None] = mapped_column(Float)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
