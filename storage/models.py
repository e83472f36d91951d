"""The database schema: the volunteer network, people, tasks and the ledgers behind them.

Typed SQLAlchemy 2.0 models. Everything the bot promises (who may see what, what is owed,
what was sent) is a row here, so that a restart or a second worker never loses or repeats it.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC on every backend.

    SQLite has no time zones; storing naive UTC and re-attaching UTC on the way out keeps
    comparisons identical on SQLite and PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        from datetime import timezone

        value = value.astimezone(timezone.utc)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        from datetime import timezone

        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


class Base(DeclarativeBase):
    """Declarative base for all Xinfeng tables."""


class Level(str, enum.Enum):
    """Levels of the network (中心/所/站/点), with province and city above for aggregation."""

    province = "province"
    city = "city"
    center = "center"
    institute = "institute"
    station = "station"
    point = "point"


LEVEL_ORDER = [lv.value for lv in Level]
LEVEL_ZH = {
    "province": "省",
    "city": "市",
    "center": "中心",
    "institute": "所",
    "station": "站",
    "point": "点",
}


class OrgUnit(Base):
    """A node of the four-level network. `path` is a materialised path for subtree queries."""

    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    # "/1/7/42/": a subtree is `path LIKE '/1/7/%'`, served by the index below.
    path: Mapped[str] = mapped_column(String(512), default="")

    __table_args__ = (Index("ix_org_units_path", "path"), Index("ix_org_units_parent", "parent_id"))


class Team(Base):
    """A volunteer team (志愿服务队伍), attached to an org unit, with the categories it serves."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    parent_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # "|农业技术|卫生健康|": delimited on both sides so `LIKE '%|cat|%'` matches exactly.
    categories: Mapped[str] = mapped_column(String(500), default="")
    invite_code: Mapped[str] = mapped_column(String(32), unique=True)


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
    language: Mapped[str] = mapped_column(String(16), default="zh_CN")
    # Direct messages for new tasks and broadcasts; a volunteer may opt out (免打扰).
    dm_opt_in: Mapped[bool] = mapped_column(Boolean, default=True)
    # A volunteer may allow residents to see their phone; never shown otherwise.
    share_phone: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TeamMember(Base):
    """Membership of a person in a team."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, index=True)


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


class TeamGroup(Base):
    """A group chat bound to a team (`/bindgroup`): one message there reaches the whole team."""

    __tablename__ = "team_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("platform", "chat_id"),)


class RoleGrant(Base):
    """A role held within a scope: captain of a team, admin of an org-unit subtree, and so on."""

    __tablename__ = "role_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))

    # NULLs never collide in a unique constraint, so each kind of scope gets a partial index.
    __table_args__ = (
        Index("uq_role_team", "person_id", "role", "team_id", unique=True,
              sqlite_where=text("team_id IS NOT NULL"), postgresql_where=text("team_id IS NOT NULL")),
        Index("uq_role_unit", "person_id", "role", "org_unit_id", unique=True,
              sqlite_where=text("org_unit_id IS NOT NULL"), postgresql_where=text("org_unit_id IS NOT NULL")),
        Index("uq_role_global", "person_id", "role", unique=True,
              sqlite_where=text("org_unit_id IS NULL AND team_id IS NULL"),
              postgresql_where=text("org_unit_id IS NULL AND team_id IS NULL")),
    )


class TaskStatus(str, enum.Enum):
    """States of the 点单→派单→接单→完成→评单 lifecycle (PRODUCT.md §3)."""

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
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
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


class AuditEntry(Base):
    """Who did (or was refused) what, on what, when — every transition and every refusal."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OutboxMessage(Base):
    """A message the bot owes someone, written in the transaction that caused it.

    The relay delivers it and marks it sent; a row is never deleted, so nothing is lost
    silently. `platform`/`address` are resolved when enqueued (the person's most recently
    used chat account, or a team's bound group); a person with no chat account gets a row
    with no platform, which only the console channel can show.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    platform: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(128))
    recipient_label: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(32), default="reply")
    # What the message is about, so a channel can edit it later (e.g. "task:12").
    ref: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    # The platform's id of the sent message, for later edits.
    external_message_id: Mapped[str | None] = mapped_column(String(128))
    # Files sent with the message (charts, exports): see storage.attachments for the format.
    attachments: Mapped[list[Any] | None] = mapped_column(JSON)


class InboxMessage(Base):
    """Every inbound message, stored first: the unique key makes a redelivery a no-op."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="received")
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("platform", "message_id"),)


class ConversationState(Base):
    """Short-lived conversation state (a draft awaiting confirmation), keyed per chat and user."""

    __tablename__ = "conversation_state"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
