"""Sending a voice message (or a photo) through the chat harness, as a channel delivers one."""

from __future__ import annotations

from handlers.core.messages import InboundMessage, Media, OutboundMessage


async def send_media(chat, name: str, kind: str = "voice", text: str = "", ref: str = "tg:voice-1"
                     ) -> list[OutboundMessage]:
    """Send `name`'s voice message (with recognised `text`, if any); return everything the bot sent because of it."""
    pid = await chat.person_id(name)
    chat._seq += 1
    msg = InboundMessage(platform="test", user_id=f"u{pid}", chat_id=f"u{pid}", text=text,
                         message_id=f"m{chat._seq}", user_name=name, media=(Media(kind, ref),))  # type: ignore[arg-type]
    before = len(chat.channel.sent)
    await chat.engine.handle(msg)
    await chat.relay.deliver_pending()
    return chat.channel.sent[before:]
