"""How an import tells its caller how far it got: a stage, a total, a position — no terminal here.

The command line draws a bar from these calls (`bot.cli.progress`); tests and the console chat
pass nothing and get `NO_PROGRESS`.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives the import's stages and positions."""

    enabled: bool  # False: nobody watches, so totals need not be worked out

    def start(self, label: str, total: int | None) -> None:
        """A stage begins; `total` is what positions count up to (bytes or rows), None if unknown."""

    def update(self, position: int) -> None:
        """The stage got to `position`."""

    def finish(self) -> None:
        """The stage is over."""


class _Silent:
    """Progress that goes nowhere."""

    enabled = False

    def start(self, label: str, total: int | None) -> None:
        """Ignore the stage."""

    def update(self, position: int) -> None:
        """Ignore the position."""

    def finish(self) -> None:
        """Ignore the end."""


NO_PROGRESS: Progress = _Silent()
