"""The console channel: try the bot in a terminal as anyone, with no tokens.

`/as <name or phone>` becomes a roster person (or a new one); `/press <n>` presses button n
of the last message you were shown; every message the bot sends to anyone is printed as
`[<recipient>] <text>`, so one terminal shows a whole conversation between several people.
Standard input may be a pipe: the same lines then play a scripted conversation.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

from bot.channels.base import ChannelKit
from bot.delivery.relay import Relay
from handlers.core.engine import Engine
from handlers.core.messages import Attachment, Button, InboundMessage, OutboundMessage
from storage.clock import Clock
from storage.db import Sessions
from storage.messaging.outcomes import Delivered, DeliveryOutcome
from storage.models import Person

PLATFORM = "console"

HELP = """控制台命令：/as 姓名或手机号 — 切换身份（花名册里的人，或一个新居民）
          /press 数字 — 按下最近一条消息里的按钮
          /who — 我现在是谁      /quit — 退出"""


class ConsoleChannel:
    """Prints what the bot sends and remembers the buttons each person was shown."""

    platform = PLATFORM

    def __init__(self, out: TextIO, files_dir: Path | None = None) -> None:
        self._out = out
        self._buttons: dict[int, list[Button]] = {}
        # A terminal cannot show a picture: attachments are saved here and their path printed.
        self._files_dir = files_dir or Path.cwd() / "xinfeng-files"

    async def send(self, message: OutboundMessage) -> DeliveryOutcome:
        """Print one message; buttons become numbered choices."""
        text = message.text.replace("\n", "\n    ")
        if message.kind == "edit":
            text = "(更新) " + text  # a terminal cannot change what it printed: show the new version
        self._out.write(f"[{message.recipient_label}] {text}\n")
        if message.buttons:
            choices = "  ".join(f"({i}) {b.label}" for i, b in enumerate(message.buttons, 1))
            self._out.write(f"    {choices}  — /press 数字\n")
            if message.person_id is not None:
                self._buttons[message.person_id] = message.buttons
        for attachment in message.attachments:
            self._out.write(f"[{message.recipient_label}] 📎 {self._save(message, attachment)}\n")
        self._out.flush()
        return Delivered()

    def _save(self, message: OutboundMessage, attachment: Attachment) -> str:
        self._files_dir.mkdir(parents=True, exist_ok=True)
        name = Path(attachment.filename).name or "file"
        path = self._files_dir / f"{message.outbox_id or uuid.uuid4().hex[:8]}-{name}"
        path.write_bytes(attachment.data)
        size = len(attachment.data)
        shown = f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} B"
        return f"{attachment.filename} ({shown}) saved to {path}"

    def button(self, person_id: int, number: int) -> Button | None:
        """Button `number` (1-based) of the last message this person was shown."""
        buttons = self._buttons.get(person_id, [])
        return buttons[number - 1] if 0 < number <= len(buttons) else None


class ConsoleSession:
    """One terminal conversation: reads lines, plays them as the current person, prints replies."""

    def __init__(
        self,
        engine: Engine,
        sessions: Sessions,
        clock: Clock,
        out: TextIO = sys.stdout,
        echo: bool = False,
    ) -> None:
        self.engine = engine
        self.sessions = sessions
        self.clock = clock
        self.out = out
        self.channel = ConsoleChannel(out)
        # Each line is handled through the kit, as a chat platform's message would be, and
        # awaited: a terminal conversation is one message at a time.
        self.kit = ChannelKit(platform=PLATFORM, engine=engine)
        self.relay = Relay(sessions, clock, [self.channel], unaddressed=self.channel)
        self.person: Person | None = None
        self.user_id = ""
        # When lines come from a pipe, print them so the output reads as a transcript.
        self.echo = echo

    def say(self, text: str) -> None:
        """Print a line from the console itself (not from the bot)."""
        self.out.write(text + "\n")
        self.out.flush()

    async def become(self, who: str) -> None:
        """Switch to a roster person by name or phone, or create a new person with that name."""
        who = who.strip()
        if not who:
            self.say("用法：/as 姓名或手机号")
            return
        signed_in = await self.kit.records.sign_in_as(who)
        person, roles, created = signed_in.person, signed_in.roles, signed_in.created
        self.person, self.user_id = person, signed_in.external_id
        parts = [f"{r.role}" for r in roles]
        if person.is_volunteer:
            parts.insert(0, "volunteer")
        if person.is_resident:
            parts.insert(0, "resident")
        what = "新用户" if created else ("、".join(parts) or "花名册成员")
        self.say(f"—— 现在您是 {person.name}（{what}）——")

    async def send_text(self, text: str, *, is_button: bool = False) -> None:
        """Send one message as the current person and print everything the bot sends."""
        if self.person is None:
            self.say("请先用 /as 姓名 选择身份，例如：/as 王大娘")
            return
        msg = InboundMessage(
            platform=PLATFORM, user_id=self.user_id, chat_id=self.user_id, text=text,
            message_id=uuid.uuid4().hex, user_name=self.person.name, is_button=is_button,
        )
        await self.kit.handle(msg)
        await self.relay.deliver_pending()

    async def handle_line(self, line: str) -> bool:
        """Handle one input line; False means quit."""
        line = line.strip()
        if not line or line.startswith("//"):
            return True
        head, _, rest = line.partition(" ")
        if head in ("/quit", "/exit"):
            return False
        if head == "/as":
            await self.become(rest)
        elif head == "/who":
            self.say(f"您是 {self.person.name}" if self.person else "还没有选择身份")
        elif head == "/console":
            self.say(HELP)
        elif head == "/press":
            await self._press(rest)
        else:
            if self.echo:
                who = self.person.name if self.person else "?"
                self.say(f"{who}> {line}")
            await self.send_text(line)
        return True

    async def _press(self, arg: str) -> None:
        if self.person is None:
            self.say("请先用 /as 姓名 选择身份")
            return
        try:
            button = self.channel.button(self.person.id, int(arg))
        except ValueError:
            button = None
        if button is None:
            self.say("没有这个按钮。用法：/press 数字（数字是最近一条消息里按钮的编号）")
            return
        self.say(f"{self.person.name}> [按下「{button.label}」]")
        await self.send_text(button.data, is_button=True)

    async def run(self, lines: AsyncIterator[str]) -> None:
        """Play lines until they run out or /quit."""
        self.say("新风志愿服务 · 控制台。" + HELP)
        await self.relay.deliver_pending()
        async for line in lines:
            if not await self.handle_line(line):
                break


async def stdin_lines() -> AsyncIterator[str]:
    """Lines from standard input, read off the event loop (a prompt on a terminal)."""
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            try:
                line = await asyncio.to_thread(input, "> ")
            except EOFError:
                return
        else:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return
        yield line
