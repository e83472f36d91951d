"""From an inbound message to committed effects: resolve, route, record, commit — one transaction, once.

`receive` handles a message in one transaction: who wrote it (with their roles and conversation
state, one query), the handler's effects, the outbox rows it owes, and the inbox row that
marks it handled — written last, so a redelivery (a webhook retry on another worker, polling
after a restart) meets it and rolls back with no second effect. The platform is told
"received" only after that commit. Rows the caller's worker will send right after the commit
are claimed in the same transaction (`take_direct`).

An error of the handler rolls its effects back and the user gets a polite apology (recorded
with the inbox row marked failed), never a stack trace. An error of the infrastructure — the
database or Redis away, a deadlock — records nothing and raises `Unavailable`: the channel
answers so that the platform delivers the message again (503, no offset moved), and nothing is
marked failed for ever. `store` and `process` serve a channel that must keep a message before
it can handle it (a WeChat callback out of time); `handle` is `receive` for tests and scripts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import tzinfo
from decimal import Decimal

from handlers.core.context import Context
from handlers.core.messages import InboundMessage
from handlers.core.router import Dispatcher
from handlers.language.textnorm import normalize
from storage.clock import Clock
from storage.db import Session, Sessions, transient
from storage.messaging.inbox import record_handled, store_inbound
from storage.messaging.outbox import deliver_written_inline, take_direct
from storage.messaging.reach import revive_chat
from storage.messaging.state import SqlStateStore, state_key
from storage.models import OutboxMessage
from storage.people.identities import identify
from storage.tasks.hours import DEFAULT_DAILY_CAP

log = logging.getLogger(__name__)

SORRY = "抱歉，系统刚才出了点问题，您的消息没有处理成功，请稍后再发一次。"


class Unavailable(Exception):
    """The infrastructure failed while handling a message: nothing was recorded, it must come again."""


@dataclass
class Handled:
    """A message handled and committed: the rows it owes, and those claimed for sending at once."""

    rows: list[OutboxMessage]
    # Claimed in the handling transaction for the handling worker to send right after the commit.
    direct: list[OutboxMessage] = field(default_factory=list)
    # The handler broke: `rows` is the apology.
    failed: bool = False
    # Marked delivered in the handling transaction as the platform's answer to the message
    # (`InlineAnswer`): the caller answers with them, or hands them back (`undo_inline`) if too late.
    inline: list[OutboxMessage] = field(default_factory=list)
    # Whose answer `inline` is: a platform's retry of the same message, sharing this result, must
    # not give the same replies a second time.
    inline_for: InlineAnswer | None = None


@dataclass(frozen=True)
class InlineAnswer:
    """Replies to the writer that may go out inside the platform's answer to the message itself
    (a WeChat passive reply): `choose` picks them from the writer's rows, in order; they are
    recorded as delivered in the handling transaction (one commit, not two), by the one inline path."""

    address: str
    external_id: str
    choose: Callable[[list[OutboxMessage]], list[OutboxMessage]]
    numbered: bool = False


@dataclass(frozen=True)
class Sending:
    """Who will send right after the commit: a worker's id and the platforms it has channels for."""

    worker: int | None
    platforms: frozenset[str]


@dataclass
class Engine:
    """Everything handling a message needs, assembled once by the composition root."""

    sessions: Sessions
    clock: Clock
    dispatcher: Dispatcher
    tz: tzinfo
    public_url: str = ""
    # The operator's daily hours cap, handed to every message's `Act` (see `handlers.core.act.Act`).
    daily_cap: Decimal = DEFAULT_DAILY_CAP

    async def handle(self, msg: InboundMessage) -> list[OutboxMessage] | None:
        """Handle one message at once (tests, scripts); None if it was a redelivery."""
        handled = await self.receive(msg)
        return None if handled is None else handled.rows

    async def store(self, msg: InboundMessage) -> int | None:
        """Keep a message before handling it (a channel that must answer first); None if seen before."""
        async with self.sessions() as session:
            return await store_inbound(
                session,
                platform=msg.platform,
                message_id=msg.message_id,
                payload=_payload(msg),
                now=self.clock.now(),
            )

    async def process(self, row_id: int, msg: InboundMessage) -> list[OutboxMessage]:
        """Handle a message kept by `store` (claimed in the handling transaction); [] if already handled."""
        handled = await self.receive(msg)
        return [] if handled is None else handled.rows

    async def receive(self, msg: InboundMessage, sending: Sending | None = None,
                      inline: InlineAnswer | None = None) -> Handled | None:
        """Handle a message in one transaction and commit; None when it was handled before.

        Raises `Unavailable` when the infrastructure failed (nothing was recorded).
        """
        try:
            async with self.sessions() as session:
                ctx = await self._context(session, msg)
                if msg.chat_type == "group":
                    # A message from a group the bot was kicked from: it is back in it.
                    await revive_chat(session, platform=msg.platform, chat_id=msg.chat_id)
                await self.dispatcher.dispatch(ctx, normalize(msg.text))
                answered = await self._inline(session, msg, ctx.sent, inline)
                # Claimed before the replies are written: they are inserted as `sending` (no UPDATE after).
                direct = await self._direct(session, [r for r in ctx.sent if r not in answered], sending)
                if not await record_handled(session, platform=msg.platform, message_id=msg.message_id,
                                            payload=_payload(msg), now=self.clock.now()):
                    await session.rollback()
                    return None
                await session.commit()
                return Handled(ctx.sent, direct, inline=answered, inline_for=inline if answered else None)
        except Exception as exc:
            if transient(exc):
                raise Unavailable(f"{msg.platform} message {msg.message_id}: {exc!r}") from exc
            log.exception("failed to handle %s message %s", msg.platform, msg.message_id)
            return await self._apologise(msg, exc, sending)

    async def _apologise(self, msg: InboundMessage, exc: Exception, sending: Sending | None) -> Handled | None:
        """The handler broke: record the message as failed and owe the user an apology, together."""
        try:
            async with self.sessions() as session:
                if not await record_handled(session, platform=msg.platform, message_id=msg.message_id,
                                            payload=_payload(msg), now=self.clock.now(), status="failed",
                                            error=repr(exc)[:2000]):
                    return None
                ctx = await self._context(session, msg)
                ctx.reply(SORRY)
                direct = await self._direct(session, ctx.sent, sending)
                await session.commit()
                return Handled(ctx.sent, direct, failed=True)
        except Exception as again:
            if transient(again):
                raise Unavailable(f"{msg.platform} message {msg.message_id}: {again!r}") from again
            raise

    async def _inline(self, session: Session, msg: InboundMessage, rows: list[OutboxMessage],
                      inline: InlineAnswer | None) -> list[OutboxMessage]:
        if inline is None:
            return []
        chosen = inline.choose([r for r in rows if r.platform == msg.platform and r.address == inline.address])
        if not chosen:
            return []
        return await deliver_written_inline(session, chosen, external_id=inline.external_id, now=self.clock.now(),
                                            numbered=inline.numbered)

    async def _direct(self, session: Session, rows: list[OutboxMessage], sending: Sending | None) -> list[OutboxMessage]:
        if sending is None or not sending.platforms:
            return []
        return await take_direct(session, rows, worker=sending.worker, platforms=sending.platforms,
                                 now=self.clock.now())

    async def _context(self, session: Session, msg: InboundMessage) -> Context:
        now = self.clock.now()
        key = state_key(msg.platform, msg.chat_id, msg.user_id)
        who = await identify(session, platform=msg.platform, external_id=msg.user_id, now=now, state_key=key,
                             display_name=msg.user_name)
        return Context(
            message=msg,
            person=who.person,
            roles=who.roles,
            session=session,
            clock=self.clock,
            # Conversation state lives in the database, in this transaction: a handler that fails
            # rolls its draft back with everything else, and every worker sees the same state.
            state=SqlStateStore(session, self.clock, known_key=key, known=who.state),
            tz=self.tz,
            public_url=self.public_url,
            daily_cap=self.daily_cap,
        )


def _payload(msg: InboundMessage) -> dict[str, object]:
    data = asdict(msg)
    data["media"] = [asdict(m) for m in msg.media]
    return data


def message_from_payload(payload: dict[str, object]) -> InboundMessage:
    """Rebuild a stored message (to process what a crash left unprocessed)."""
    from handlers.core.messages import Media

    data = dict(payload)
    data["media"] = tuple(Media(**m) for m in data.get("media", []))  # type: ignore[arg-type]
    return InboundMessage(**data)  # type: ignore[arg-type]
