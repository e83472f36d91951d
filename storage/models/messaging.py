"""Messages in and out: the inbox, the outbox, the workers delivering it, unreachable group chats, conversation state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, BigId, UTCDateTime


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
    # Failed attempts (a throttled send is no attempt: the platform asked us to wait, nothing failed).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Not to be sent before this instant: a platform's retry-after, or the backoff after a failure.
    # Not to be sent before this instant (a throttled or failing chat's back-off); indexed because
    # the relay asks "is anything earlier to this chat still waiting?" for every row it picks.
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    # The platform's id of the sent message, for later edits.
    external_message_id: Mapped[str | None] = mapped_column(String(128))
    # Files sent with the message (charts, exports): see storage.messaging.attachments for the format.
    attachments: Mapped[list[Any] | None] = mapped_column(JSON)
    # The worker (`DeliveryWorker`) sending it while `status` is "sending": nobody else takes it while
    # that worker's heartbeat is fresh; a dead worker's rows are put back within seconds.
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        # "Is anything earlier to this chat still unsent?": asked for each message sent right after
        # its commit and by the relay, over the few unsent rows only.
        Index("ix_outbox_chat_unsent", "platform", "address", "id",
              postgresql_where=sql_text("status IN ('pending', 'sending')"),
              sqlite_where=sql_text("status IN ('pending', 'sending')")),
    )


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

    __table_args__ = (
        UniqueConstraint("platform", "message_id"),
        # What the sweeper looks for (stored, not yet handled): a handful of rows among millions.
        Index("ix_inbox_unhandled", "platform", "id",
              postgresql_where=sql_text("status = 'received'"), sqlite_where=sql_text("status = 'received'")),
    )


class DeliveryWorker(Base):
    """A running process that sends outbox rows: its heartbeat is the lease on the rows it claimed.

    Each `xinfeng run` registers one row at start and renews `heartbeat_at` every second or so.
    A row claimed by a worker whose heartbeat is older than the lease goes back to the relay; a
    live worker's rows are never taken. `journal` is the file where the worker notes each send
    before its outcome reaches the database, so whoever takes over its rows (on the same host)
    does not send again what it already delivered.
    """

    __tablename__ = "delivery_workers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    journal: Mapped[str | None] = mapped_column(String(500))


class UnreachableChat(Base):
    """A group chat the platform says the bot can no longer post in (kicked, deleted).

    A person's chat account has `ChannelIdentity.reachable`; a team's group has no such row of
    its own, so its state is kept here. A message from the chat (the bot was added back)
    deletes the row.
    """

    __tablename__ = "unreachable_chats"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    address: Mapped[str] = mapped_column(String(128), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)


class ConversationState(Base):
    """Short-lived conversation state (a draft awaiting confirmation), keyed per chat and user."""

    __tablename__ = "conversation_state"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
