"""Tables for proving who someone is and slowing down guessers (issue 12).

`LinkRequest`: a chat account asking to act as a roster person (加入 <邀请码> <姓名>). Typing a
name proves nothing — names are public and invite codes are shared in groups — so the account
is linked only when the team's captain (or an admin, for a captain's or an admin's row) approves
it, or when the person proves it from an account of theirs already linked, by typing the
one-time code sent there.

`CheckinAttempt`: wrong check-in codes per person per activity; after five the person waits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class LinkRequest(Base):
    """A chat account's request to be linked to a roster person, and how it ended."""

    __tablename__ = "link_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The roster row claimed, and the team whose invite code was used.
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # The account asking, as the platform names it, and the name it shows (for the approver to judge).
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(200))
    # The person the account was before (a new, unregistered one, usually).
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # pending → approved | refused | proved (by the one-time code) | expired | superseded
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # The one-time code sent to the person's linked account (a SHA-256 hex digest), and wrong tries.
    code_digest: Mapped[str | None] = mapped_column(String(64))
    code_tries: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    __table_args__ = (Index("ix_link_requests_account", "platform", "external_id", "status"),)


class CheckinAttempt(Base):
    """Wrong check-in codes a person sent for an activity, and until when they must wait."""

    __tablename__ = "checkin_attempts"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
