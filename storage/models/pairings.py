"""Tables for pairings (结对帮扶): a party-member volunteer paired with households, and the visits.

A household is kept by name (and phone, when known) within its village: many paired
households are elderly people with no chat account and no roster row of their own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class Pairing(Base):
    """One volunteer paired with one household of a village."""

    __tablename__ = "pairings"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    household_name: Mapped[str] = mapped_column(String(100))
    household_phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("volunteer_id", "org_unit_id", "household_name"),)


class PairingVisit(Base):
    """A home visit (走访) logged in chat, with the number of problems solved."""

    __tablename__ = "pairing_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id"))
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text)
    problems_solved: Mapped[int] = mapped_column(Integer, default=0)

    # Monthly counts read one pairing's visits in a time range.
    __table_args__ = (Index("ix_pairing_visits_pairing_at", "pairing_id", "visited_at"),)
