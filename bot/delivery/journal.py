"""A worker's send journal: what it handed to a platform, written before the database knows.

Between a platform's "delivered" and the database's `sent` there is a moment — longer when the
database is away — in which a worker that dies leaves a row `sending` that was in fact sent.
Whoever takes the row over reads the dead worker's journal (`read_journal`; the file's path is
in the worker's heartbeat row, so this works on the same host or a shared volume): a row noted
delivered is recorded as sent with its platform id, not sent again; a row noted as being sent
with no answer was in flight when the worker died — sent again, and counted as a possible
duplicate, the only kind left (bounded by what one worker has in flight).

Each note is one `os.write` to a file opened for appending: it survives the process being
killed (the kernel has it), though not the machine losing power. The file is emptied whenever
every note in it has reached the database.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

# Empty the file once this large and nothing in it is still waiting for the database.
COMPACT_BYTES = 1 << 20


@dataclass
class JournalState:
    """What a journal says about each row: delivered (with the platform id), or only begun."""

    delivered: dict[int, str | None] = field(default_factory=dict)
    begun: set[int] = field(default_factory=set)


class Journal:
    """One worker's append-only notes: S(ending) id, D(elivered) id ext, X (not delivered) id, R(ecorded) ids."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._open: set[int] = set()
        self._size = os.fstat(self._fd).st_size

    def _write(self, line: str) -> None:
        data = line.encode()
        os.write(self._fd, data)
        self._size += len(data)

    def sending(self, row_id: int) -> None:
        """A send of this row begins."""
        self._open.add(row_id)
        self._write(f"S {row_id}\n")

    def delivered(self, row_id: int, external_id: str | None) -> None:
        """The platform accepted this row."""
        ext = (external_id or "-").replace(" ", "_").replace("\n", "_")
        self._write(f"D {row_id} {ext}\n")

    def not_delivered(self, row_id: int) -> None:
        """The platform did not take this row (it will be tried again, or kept as undeliverable)."""
        self._write(f"X {row_id}\n")

    def recorded(self, row_ids: list[int]) -> None:
        """The database now holds these rows' outcomes; once nothing is open, a large file is emptied."""
        if not row_ids:
            return
        self._write("R " + " ".join(map(str, row_ids)) + "\n")
        self._open.difference_update(row_ids)
        if not self._open and self._size > COMPACT_BYTES:
            os.ftruncate(self._fd, 0)
            self._size = 0

    def close(self, *, remove: bool = False) -> None:
        """Close the file (and remove it: a clean stop leaves nothing to read)."""
        with contextlib.suppress(OSError):
            os.close(self._fd)
        if remove:
            with contextlib.suppress(OSError):
                self.path.unlink()


def read_journal(path: str | None) -> JournalState | None:
    """What a (dead) worker's journal says; None when there is no journal to read here."""
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    state = JournalState()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            continue  # a line cut short by the kill
        kind, row_id = parts[0], int(parts[1])
        if kind == "S":
            state.begun.add(row_id)
        elif kind == "D":
            ext = parts[2] if len(parts) > 2 and parts[2] != "-" else None
            state.delivered[row_id] = ext
        elif kind == "X":
            state.begun.discard(row_id)
            state.delivered.pop(row_id, None)
        elif kind == "R":
            for raw in parts[1:]:
                if raw.isdigit():
                    state.begun.discard(int(raw))
                    state.delivered.pop(int(raw), None)
    return state


def remove_journal(path: str | None) -> None:
    """Delete a journal that has been read and applied."""
    if path:
        with contextlib.suppress(OSError):
            Path(path).unlink()
