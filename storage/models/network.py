"""The four-level network (中心/所/站/点) and its teams, groups and roles."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


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
    # 值班电话: whom to ring in an emergency ("0421-5612301"); blank when the roster gives none.
    duty_phone: Mapped[str | None] = mapped_column(String(32))
    # 行政区划代码 (6 digits for a county and above, 9 or 12 below): how the data map places the unit.
    division_code: Mapped[str | None] = mapped_column(String(12))

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


class TeamMember(Base):
    """Membership of a person in a team."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, index=True)


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
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
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
