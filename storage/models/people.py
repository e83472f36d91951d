"""People and their chat accounts: one person, several roles, several apps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class Person(Base):
    """Anyone the bot knows: a resident, a volunteer, an admin — one row, several roles."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    # The home unit: a resident's village station, a volunteer's roster unit.
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    is_resident: Mapped[bool] = mapped_column(Boolean, default=False)
    is_volunteer: Mapped[bool] = mapped_column(Boolean, default=False)
    party_member: Mapped[bool] = mapped_column(Boolean, default=False)
    # "|a|b|", delimited on both sides like Team.categories.
    skills: Mapped[str] = mapped_column(String(500), default="")
    # Direct messages for new tasks and broadcasts; a volunteer may opt out (免打扰).
    dm_opt_in: Mapped[bool] = mapped_column(Boolean, default=True)
    # A volunteer may allow residents to see their phone; never shown otherwise.
    share_phone: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChannelIdentity(Base):
    """A chat account, `(platform, external_id)`, mapped to a person; one person may have several."""

    __tablename__ = "channel_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (UniqueConstraint("platform", "external_id"),)
