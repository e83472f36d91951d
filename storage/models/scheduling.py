"""Tables of the scheduler: recurring rules, what was fired and sent, and the leader lease.

The database is the record of what is owed and what was sent (PRODUCT.md §6): a rule says
when a job falls due for an org-unit subtree, a firing row says a job's fan-out for one scope
and period is done, and the sent-log's primary key (job, target, period) makes a second
sending to the same target impossible. The lease row carries the fencing token that every
scheduler write checks in its own transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
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


class ScheduleRule(Base):
    """A recurring day for a job at an org unit, inherited by its subtree unless a lower unit overrides it.

    Day rules are monthly: either a day of the month (a day past the month's end means its
    last day, so a "31st" rule fires on 28/29 February) or the n-th weekday of the month
    (`week_of_month` 1–4, or -1 for the last). `enabled=False` switches the job off for the
    subtree. Occurrences before `effective_from` (when the rule was set) are not owed.
    """

    __tablename__ = "schedule_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    job: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    day_of_month: Mapped[int | None] = mapped_column(Integer)
    week_of_month: Mapped[int | None] = mapped_column(Integer)
    weekday: Mapped[int | None] = mapped_column(Integer)  # 0 = Monday, as in Python
    hour: Mapped[int] = mapped_column(Integer, default=8)
    minute: Mapped[int] = mapped_column(Integer, default=0)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    __table_args__ = (UniqueConstraint("org_unit_id", "job", name="uq_schedule_rule_unit_job"),)


class ScheduleFiring(Base):
    """One job's fan-out for one scope and period, written in the transaction of that fan-out.

    Its presence means "done": a tick that finds it skips the scope cheaply, and two workers
    racing to create it serialise on the unique key, so only one fans out.
    """

    __tablename__ = "schedule_firings"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(32))
    # "unit:<id>" for a regional firing, "all" for a network-wide one.
    scope: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The one message of a regional fan-out; empty when every recipient gets their own text.
    text: Mapped[str] = mapped_column(Text, default="")
    fence_token: Mapped[int | None] = mapped_column(BigInteger)
    recipients: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("job", "period", "scope", name="uq_schedule_firing"),)


class ScheduleFiringUnit(Base):
    """An org unit a regional firing covers (its subtree minus subtrees with rules of their own)."""

    __tablename__ = "schedule_firing_units"

    firing_id: Mapped[int] = mapped_column(ForeignKey("schedule_firings.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)

    __table_args__ = (Index("ix_schedule_firing_units_unit", "unit_id"),)


class ScheduleSend(Base):
    """The sent-log: one row per (job, period, target); the primary key makes a second send impossible.

    `target_type` is "person" or "group" (a `TeamGroup` id); `firing_id` names the firing that
    claimed it. Written in the same transaction as the outbox row it stands for. The key leads
    with (job, period) so that one firing's rows are one range of the index — read through a
    join on the firing's (job, period) — and a month's fan-out writes into one fresh region of
    it rather than all over a growing history.
    """

    __tablename__ = "schedule_sends"

    job: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(32), primary_key=True)
    target_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    target_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # No foreign key, and no index of its own: the firing is written in the same transaction,
    # and each per-row check or index entry costs seconds over a province's million rows.
    firing_id: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SchedulerLease(Base):
    """Who leads the scheduler, until when, and the fencing token of their tenure.

    The token only grows: each new tenure increments it, and every scheduler write checks it
    in the same transaction, so a deposed leader's late write fails instead of duplicating.
    """

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(128))
    token: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    renewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)



class Installation(Base):
    """This installation's one row: when it first ran — nothing that fell due before then is owed.

    Written once: by the first scheduler run (`storage.scheduling.installation.record_first_run`),
    or by migration 0007 for a database that already had a history (its earliest record), so an
    upgraded installation keeps what it was owed and a new one sends nothing for periods before it.
    """

    __tablename__ = "installation"

    # Always 1: the primary key makes a second row — a second "first run" — impossible.
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    first_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
