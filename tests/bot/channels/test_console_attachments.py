"""The console shows a file the bot sends as a saved file and one line: `[who] 📎 name (size) saved to path`."""

from __future__ import annotations

import io

from bot.channels.console import ConsoleChannel
from handlers.core.messages import Attachment, OutboundMessage


async def test_console_saves_attachments_and_prints_where(tmp_path) -> None:
    out = io.StringIO()
    channel = ConsoleChannel(out, files_dir=tmp_path / "files")
    png = b"\x89PNG\r\n\x1a\n" + bytes(12 * 1024)
    message = OutboundMessage(platform="console", address="p1", text="📊 蓬莱社区", recipient_label="赵海清",
                              outbox_id=7, attachments=[Attachment("photo", "chart.png", "image/png", len(png), png),
                                                        Attachment("document", "工时.xlsx", "application/x", 3, b"abc")])
    await channel.send(message)
    lines = out.getvalue().splitlines()
    saved = tmp_path / "files" / "7-chart.png"
    assert lines == ["[赵海清] 📊 蓬莱社区",
                     f"[赵海清] 📎 chart.png (12 KB) saved to {saved}",
                     f"[赵海清] 📎 工时.xlsx (3 B) saved to {tmp_path / 'files' / '7-工时.xlsx'}"]
    assert saved.read_bytes() == png


async def test_a_hostile_file_name_stays_in_the_folder(tmp_path) -> None:
    channel = ConsoleChannel(io.StringIO(), files_dir=tmp_path)
    await channel.send(OutboundMessage(platform="console", address="p1", text="x", outbox_id=1,
                                       attachments=[Attachment("document", "../../etc/passwd", "text/plain", 1, b"x")]))
    assert (tmp_path / "1-passwd").read_bytes() == b"x"
