"""Tables for small wishes (微心愿): collected for a household, published, claimed, fulfilled.

submitted → published → claimed → fulfilled → confirmed; each step is one conditional UPDATE
in `storage.programmes.wishes`, and `claimed_by_id` holds the one volunteer who won the claim.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class WishStatus(str, enum.Enum):
    """Where a wish stands."""

    submitted = "submitted"
    published = "published"
    claimed = "claimed"
    fulfilled = "fulfilled"
    confirmed = "confirmed"


class Wish(Base):
    """A household's small wish, submitted on its behalf by a first secretary or an admin."""

    __tablename__ = "wishes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The village station the household lives in: whose secretary confirms, whose federation publishes.
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    household: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=WishStatus.submitted.value, index=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Photo proof: the platform's media refs ({"kind": "photo", "ref": ...}), or a text proof.
    proof: Mapped[list[Any]] = mapped_column(JSON, default=list)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
