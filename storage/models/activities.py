"""Tables for projects (志愿服务项目) and activities (活动) with their sign-ups and hours corrections.

The activities feature owns and extends these; the scheduler reads `Activity` for the moral
activity day and reminders.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class Project(Base):
    """A named, branded programme (周末文化广场, 德耀北票, 圆梦微心愿…) owned by an org unit."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    # One brand per name within a unit; the same brand may exist in two counties.
    __table_args__ = (UniqueConstraint("org_unit_id", "name", name="uq_projects_unit_name"),)


class Activity(Base):
    """A dated event under a team (and optionally a project), with a capacity and a check-in code."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    # The unit it happens in (the team's unit unless said otherwise): regional lists use it.
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str | None] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # starts_at + the activity's length: the cap on anyone's hours for it.
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # None: no limit, nobody is ever waitlisted.
    capacity: Mapped[int | None] = mapped_column(Integer)
    checkin_code: Mapped[str] = mapped_column(String(16))
    # planned → (cancelled | finished)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by every sign-up and cancellation: the UPDATE that bumps it is the lock that
    # serialises them, and its value is each sign-up's place in the arrival order.
    signup_seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Where it happens, for location check-in on Telegram (optional), and how close is close enough.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    checkin_radius_m: Mapped[int | None] = mapped_column(Integer)
    # People served (受益人数), reported by the captain afterwards; summed per project.
    beneficiaries: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    __table_args__ = (Index("ix_activities_starts_at", "starts_at"),)


class ActivitySignup(Base):
    """A volunteer's place on an activity (报名), or their place in its waitlist."""

    __tablename__ = "activity_signups"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    # signed | waitlisted | cancelled
    status: Mapped[str] = mapped_column(String(16))
    # Arrival order (Activity.signup_seq when this sign-up, or re-sign-up, was taken): the
    # waitlist is promoted lowest first.
    seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checkin_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checkout_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    no_show: Mapped[bool] = mapped_column(Boolean, default=False)
    # The captain undid a no-show: the scheduler must not mark it again.
    no_show_undone: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        UniqueConstraint("activity_id", "volunteer_id"),
        Index("ix_activity_signups_queue", "activity_id", "status", "seq"),
    )


class HoursCorrection(Base):
    """A captain's correction of hours already verified (核时 again): from, to, by whom, when.

    History is never edited: the hours ledger gets a row of its own for the difference (source
    "hours_correction", this id), and `points` is what that difference is worth at the rate of
    the day — what the points ledger follows (`storage.activities.corrections`).
    """

    __tablename__ = "hours_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    signup_id: Mapped[int] = mapped_column(ForeignKey("activity_signups.id"), index=True)
    from_hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    to_hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    # Negative when the hours went down: points to take back.
    points: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    corrected_at: Mapped[datetime] = mapped_column(UTCDateTime)
