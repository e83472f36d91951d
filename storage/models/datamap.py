"""Tables behind the data map (数据地图): maintained aggregates, and stored file contents (blobs).

The aggregates are per org unit *subtree*: every event adds to the counter of its own unit and
of every unit above it, so a province's figures are a read of the province's own rows (a few
hundred), never a scan of 1.2 million volunteers. They are kept by database triggers, written
from one rule list (`storage.datamap.rules`), so every code path — the bot, the importer, a bulk
load, a hand-written UPDATE — moves them in the transaction of the change itself.

- `StatUnitClosure`: (unit, ancestor, depth) for every unit and each unit above it, itself
  included (depth 0) — the fan-out list of an event.
- `StatCounter`: (unit, metric, period) → value. `period` is a Beijing-time month "2026-11", a
  day "2026-11-28" (the last-active histogram), or "" for undated things (units, teams).
  Hours are stored in hundredths, so every counter is an exact integer on both backends.
- `StatDelta`: on PostgreSQL triggers append signed deltas here instead of updating the shared
  counter rows — an UPDATE of the province's row by every transaction would serialise them all
  and deadlock two that touch two rows in opposite orders. `fold_deltas` moves them into
  `StatCounter`; readers add both. SQLite has one writer at a time, so its triggers update
  `StatCounter` directly and this table stays empty.
- `StatLastActive`: each person's last day of service, for "active in the last 30 days".

`storage.datamap.recount.recount` recomputes all of it from the source tables; the tests compare.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, event
from sqlalchemy.orm import Mapped, mapped_column

from storage.datamap.recount import install_aggregates_sync
from storage.models.base import Base, BigId, UTCDateTime


class StatUnitClosure(Base):
    """One (unit, ancestor) pair of the network, the unit itself included at depth 0."""

    __tablename__ = "stat_unit_closure"

    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ancestor_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    depth: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_stat_unit_closure_ancestor", "ancestor_id"), {"sqlite_with_rowid": False})


class StatCounter(Base):
    """A maintained figure for one unit's whole subtree, per metric and period."""

    __tablename__ = "stat_counters"

    org_unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(48), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = ({"sqlite_with_rowid": False},)


class StatDelta(Base):
    """A change to a counter not yet folded into it (PostgreSQL only; see the module docstring)."""

    __tablename__ = "stat_deltas"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    org_unit_id: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(48))
    period: Mapped[str] = mapped_column(String(10))
    value: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_stat_deltas_unit", "org_unit_id"),)


class StatLastActive(Base):
    """A person's last day of service (Beijing date) and the home unit it is counted under."""

    __tablename__ = "stat_last_active"

    person_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_unit_id: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[str | None] = mapped_column(String(10))


class Blob(Base):
    """The bytes of a file the bot sends (a chart, an export), referenced by outbox attachments.

    Kept in the database rather than on disk so that any worker's relay can send it.
    """

    __tablename__ = "blobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


@event.listens_for(Base.metadata, "after_create")
def _install_triggers(_metadata: Any, connection: Any, **_kw: Any) -> None:
    # `create_all` (tests, a fresh database) gets the triggers with the tables; migrations call
    # `storage.datamap.recount.install_aggregates` themselves.
    install_aggregates_sync(connection)
