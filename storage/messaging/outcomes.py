"""What became of one attempt to deliver an outbox message, as a channel reports it.

A channel's `send()` never writes to the database: it says what happened, in one of these
words, and the relay records it through `storage.messaging.outbox.apply_outcome` (courier's
handlers do the same, returning `ErrContactStopped` and leaving the stop event to the sender).
Each outcome says what the platform told us, not what to do about it; `apply_outcome` decides
that in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Delivered:
    """The platform accepted the message.

    `external_id` is the platform's id for it (what a later edit changes). `numbered` is set
    when the channel showed the buttons as numbered text ("回复 1 接单"): what each number
    stands for is then remembered for that chat.
    """

    external_id: str | None = None
    numbered: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecipientGone:
    """The recipient can never be reached here: blocked the bot, unfollowed, left, deleted the chat."""

    reason: str


@dataclass(frozen=True)
class Throttled:
    """The platform (or our own limiter for it) asks us to wait `retry_after` seconds; nothing failed."""

    retry_after: float
    reason: str = "throttled"


@dataclass(frozen=True)
class ChatMoved:
    """The chat has a new address (a Telegram group that became a supergroup)."""

    new_address: str
    reason: str = "chat moved"


@dataclass(frozen=True)
class TemporaryFailure:
    """It failed this time (network, 5xx, a quota we cannot see the end of); trying later may work."""

    reason: str


@dataclass(frozen=True)
class Postponed:
    """Our side could not try (the database, Redis or the network was away): nothing failed at the platform.

    The row waits `retry_after` seconds and is tried again, as often as it takes, with no attempt
    counted: an outage of ours never makes a message undeliverable.
    """

    retry_after: float
    reason: str = "postponed"


@dataclass(frozen=True)
class Refused:
    """The message as asked can never go out (a malformed request, no template for it), the recipient is fine."""

    reason: str


DeliveryOutcome = Delivered | RecipientGone | Throttled | ChatMoved | TemporaryFailure | Postponed | Refused
