"""WeCom customer groups (客户群): the ordinary WeChat groups captains own, and group-message tasks to them.

A village volunteer group is a personal-WeChat group; the app cannot post in it. When its owner
(a captain) is a WeCom member the group is a *customer group*, and the app may ask the captain
to send a message into it: a group-message task (`externalcontact/add_msg_template`) that the
captain confirms with one tap. A binding of a team to such a group is an ordinary `TeamGroup`
with platform `wecom_customer` (so every team sender — broadcasts, activities, wishes, the moral
day — already writes its outbox rows there); these tables hold what WeCom's side adds:

- `CustomerGroup`: the groups WeCom lists (name, owner, member count, refreshed daily);
- `GroupMessageTask`: one task per captain and message, covering all their groups, with its
  reminder and deadline; `GroupMessageTarget`: each group of a task, with its outbox row;
- `GroupQuotaUse`: messages a group received in a quota period (WeCom limits each group).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime

CUSTOMER_PLATFORM = "wecom_customer"


class CustomerGroup(Base):
    """A customer group as WeCom last listed it."""

    __tablename__ = "wecom_customer_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    owner: Mapped[str] = mapped_column(String(64), index=True)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GroupMessageTask(Base):
    """One group-message task: a captain (`sender`) asked to send `text` into some of their groups.

    status: waiting (created in WeCom, not confirmed) → sent | fallen_back (deadline passed or
    cancelled; the members were told the other ways).
    """

    __tablename__ = "wecom_group_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    msgid: Mapped[str | None] = mapped_column(String(128), unique=True)
    sender: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    ref: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    remind_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GroupMessageTarget(Base):
    """One group of a task, and the outbox row it stands for. status: waiting → sent | failed | fallback."""

    __tablename__ = "wecom_group_task_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("wecom_group_tasks.id"), index=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), unique=True)
    chat_id: Mapped[str] = mapped_column(String(128))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    period: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GroupQuotaUse(Base):
    """How many group messages a customer group took in one quota period ("2026-12", "2026-12-01", "2026-W49")."""

    __tablename__ = "wecom_group_quota"

    chat_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
