"""Reading what a conversation left behind: the open draft, the tasks, the labelled examples, the buttons shown."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from handlers.core.messages import OutboundMessage
from storage.messaging.state import state_key
from storage.models import ConversationState, Task
from storage.models.intake import IntakeExample


async def draft_of(chat, name: str) -> dict[str, Any] | None:
    """The draft `name` has open with the bot (conversation state), or None."""
    pid = chat.ids[name]
    async with chat.sessions() as s:
        row = await s.get(ConversationState, state_key("test", f"u{pid}", f"u{pid}"))
    if row is None or row.data.get("awaiting") != "order_confirm":
        return None
    return dict(row.data["draft"])


async def tasks(chat) -> list[Task]:
    """Every task, oldest first."""
    async with chat.sessions() as s:
        return list((await s.execute(select(Task).order_by(Task.id))).scalars())


async def examples(chat) -> list[tuple[str, str, str, str | None]]:
    """Every labelled example as (text, category, source, guessed), oldest first."""
    async with chat.sessions() as s:
        rows = await s.execute(select(IntakeExample).order_by(IntakeExample.id))
        return [(e.text, e.category, e.source, e.guessed) for e in rows.scalars()]


def buttons_to(chat, name: str, out: list[OutboundMessage]) -> list[str]:
    """The labels of the buttons on the last message `name` got among `out`."""
    mine = [m for m in out if m.person_id == chat.ids[name]]
    assert mine, f"nothing was sent to {name}"
    return [b.label for b in mine[-1].buttons]
