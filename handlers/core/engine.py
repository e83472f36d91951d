"""From an inbound message to committed effects: store, resolve, route, commit — exactly once.

Two steps, driven by the channel kit (`bot/channels/base.py`): `store` keeps the message
(deduplicated by its platform id) before the platform is told it arrived, and `process`
handles a stored row, marking it processed in the same transaction as its effects — so a
redelivery is a no-op and a crash leaves it to be processed again (the kit's sweeper does).
An error rolls the effects back and the user gets a polite apology, never a stack trace.
`handle` runs both steps at once, for tests and scripts that need no lanes.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import tzinfo

from handlers.core.context import Context
from handlers.core.messages import InboundMessage
from handlers.core.router import Dispatcher
from handlers.language.textnorm import normalize
from storage.clock import Clock
from storage.db import Session, Sessions
from storage.messaging.inbox import claim_inbound, store_inbound
from storage.messaging.reach import revive_chat
from storage.messaging.state import SqlStateStore
from storage.models import OutboxMessage
from storage.people.identities import resolve_identity, roles_of

log = logging.getLogger(__name__)

SORRY = "抱歉，系统刚才出了点问题，您的消息没有处理成功，请稍后再发一次。"


@dataclass
class Engine:
    """Everything handling a message needs, assembled once by the composition root."""

    sessions: Sessions
    clock: Clock
    dispatcher: Dispatcher
    tz: tzinfo
    public_url: str = ""

    async def handle(self, msg: InboundMessage) -> list[OutboxMessage] | None:
        """Store and process one message at once (tests, scripts); None if it was a redelivery."""
        row_id = await self.store(msg)
        if row_id is None:
            return None
        return await self.process(row_id, msg)

    async def store(self, msg: InboundMessage) -> int | None:
        """Store a message before acknowledging it to the platform; None if it was seen before."""
        async with self.sessions() as session:
            return await store_inbound(
                session,
                platform=msg.platform,
                message_id=msg.message_id,
                payload=_payload(msg),
                now=self.clock.now(),
            )

    async def process(self, row_id: int, msg: InboundMessage) -> list[OutboxMessage]:
        """Run the handlers for a stored message and commit effects, outbox and status together.

        The row is claimed first, so a worker recovering it after a crash while another still
        handles it (or two recovering workers) cannot apply it twice.
        """
        try:
            async with self.sessions() as session:
                if not await claim_inbound(session, row_id, "processed"):
                    return []
                if msg.chat_type == "group":
                    # A message from a group the bot was kicked from: it is back in it.
                    await revive_chat(session, platform=msg.platform, chat_id=msg.chat_id)
                ctx = await self._context(session, msg)
                await self.dispatcher.dispatch(ctx, normalize(msg.text))
                await session.commit()
                return ctx.sent
        except Exception as exc:  # noqa: BLE001 — the user must get an answer whatever broke
            log.exception("failed to handle %s message %s", msg.platform, msg.message_id)
            async with self.sessions() as session:
                if not await claim_inbound(session, row_id, "failed", error=repr(exc)[:2000]):
                    return []
                ctx = await self._context(session, msg)
                ctx.reply(SORRY)
                await session.commit()
                return ctx.sent

    async def _context(self, session: Session, msg: InboundMessage) -> Context:
        now = self.clock.now()
        person = await resolve_identity(
            session, platform=msg.platform, external_id=msg.user_id, now=now, display_name=msg.user_name
        )
        return Context(
            message=msg,
            person=person,
            roles=await roles_of(session, person.id),
            session=session,
            clock=self.clock,
            # Conversation state lives in the database, in this transaction: a handler that fails
            # rolls its draft back with everything else, and every worker sees the same state.
            state=SqlStateStore(session, self.clock),
            tz=self.tz,
            public_url=self.public_url,
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
