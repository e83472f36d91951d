"""Tasks (点单→派单→接单→完成→评单), their offers and assignments, and the hours ledger."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class TaskStatus(str, enum.Enum):
    """States of the 点单→派单→接单→完成→评单 lifecycle (docs/tasks.md)."""

    submitted = "submitted"
    dispatched = "dispatched"
    accepted = "accepted"
    completed = "completed"
    closed = "closed"
    cancelled = "cancelled"


class Task(Base):
    """A resident's request (点单) and where it stands."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    # The resident's station: whose admins answer for it, whatever level it escalates to.
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    wanted_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wanted_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phone: Mapped[str | None] = mapped_column(String(32))
    place: Mapped[str | None] = mapped_column(String(200))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    media: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.submitted.value, index=True)
    volunteers_needed: Mapped[int] = mapped_column(Integer, default=1)
    accepted_count: Mapped[int] = mapped_column(Integer, default=0)
    # The level the task is currently offered at, and when that level's window runs out.
    dispatch_level: Mapped[str | None] = mapped_column(String(16))
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    # An emergency's kinds ("medical,fire"), most pressing first; NULL for an ordinary request.
    emergency: Mapped[str | None] = mapped_column(String(32))
    # Who holds the task while no team is offered it: the nearest admin up the tree (docs/tasks.md,
    # ownership), and the unit whose level it waits at (the admin's, or the offered teams').
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    # Since when it has had nowhere left to go (the top reached, or nobody at all to tell):
    # `xinfeng tasks stuck` lists it until someone takes it.
    stuck_since: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class TaskOffer(Base):
    """A team a task is offered to (派单); escalation adds the next level's teams."""

    __tablename__ = "task_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    __table_args__ = (UniqueConstraint("task_id", "team_id"),)


class TaskAssignment(Base):
    """A volunteer who accepted a task (接单); released rows stay for the record."""

    __tablename__ = "task_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    # Indexed: routing counts each team's open tasks (fewest first) through it.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("task_id", "volunteer_id"),)


class HoursEntry(Base):
    """One line of the service-hours ledger (志愿时长); the source makes crediting idempotent."""

    __tablename__ = "hours_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int] = mapped_column(BigInteger)
    credited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("source_type", "source_id", "volunteer_id"),)
