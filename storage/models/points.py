"""Tables for points (积分) and the love supermarket (爱心超市).

Every change of a volunteer's points is a `PointsEntry` row with its source; the running
balance lives on `PointsAccount` so that a redemption is one conditional UPDATE
(`balance >= cost`), and a CHECK constraint keeps it from ever going negative even if code
forgot to. Goods are stocked per station with the same guard on `stock`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class PointsRule(Base):
    """Points per verified hour for an org unit's subtree; a lower unit's rule overrides it."""

    __tablename__ = "points_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), unique=True)
    points_per_hour: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("points_per_hour >= 0", name="ck_points_rule_nonnegative"),)


class PointsAccount(Base):
    """A volunteer's points balance and their redemption code (兑换码), shown in 积分."""

    __tablename__ = "points_accounts"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    balance: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    # Short and unambiguous when read aloud at the shop counter; never the phone number.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("balance >= 0", name="ck_points_balance_nonnegative"),)


class PointsEntry(Base):
    """One line of the points ledger: an award for credited hours, or a redemption."""

    __tablename__ = "points_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    delta: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    balance_after: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    # "hours" (source_id: an hours_ledger row) or "redemption" (source_id: a redemptions row).
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("source_type", "source_id", "person_id"),)


class Goods(Base):
    """An item on a station's love-supermarket shelf, with its point price and stock."""

    __tablename__ = "goods"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("org_unit_id", "name"),
        CheckConstraint("stock >= 0", name="ck_goods_stock_nonnegative"),
        CheckConstraint("price > 0", name="ck_goods_price_positive"),
    )


class Redemption(Base):
    """Goods handed over at the counter for points (兑换), and who handed them over."""

    __tablename__ = "redemptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    goods_id: Mapped[int] = mapped_column(ForeignKey("goods.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    shopkeeper_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
