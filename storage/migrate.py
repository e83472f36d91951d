"""Schema migrations with Alembic, configured in code (no alembic.ini to keep in step).

Alembic's command API is synchronous and its env runs its own event loop, so callers inside
an event loop run these in a thread.

Alembic logs a dozen INFO lines at every start (a line per plugin it sets up when imported,
the dialect it chose), even when there is nothing to migrate; they are kept out of the log,
and `upgrade` says in one line of its own which revisions it applied, if any.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Importing Alembic logs "setup plugin …" at INFO for each of its plugins: quiet before the import.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

from alembic import command  # noqa: E402 — after the line above, on purpose
from alembic.config import Config  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The logger whose "Running upgrade A -> B, message" lines say what a run applied.
STEPS_LOGGER = "alembic.runtime.migration"

log = logging.getLogger(__name__)


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest revision this code knows: what a migrated database is stamped with."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations in {MIGRATIONS}")
    return head


class _Steps(logging.Filter):
    """Keeps the revisions a run applied, from Alembic's own log lines, and lets only warnings through."""

    def __init__(self) -> None:
        super().__init__()
        self.applied: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        """Note a step; drop everything below WARNING."""
        message = record.getMessage()
        if message.startswith("Running upgrade"):
            self.applied.append(message.removeprefix("Running upgrade").strip())
        return record.levelno >= logging.WARNING


@contextmanager
def _steps_noted() -> Iterator[_Steps]:
    """Alembic's run-time lines kept out of the log for the duration; its steps collected instead."""
    steps_logger = logging.getLogger(STEPS_LOGGER)
    saved = steps_logger.level
    steps = _Steps()
    steps_logger.setLevel(logging.INFO)  # so its INFO lines reach the filter, whatever the log level
    steps_logger.addFilter(steps)
    try:
        yield steps
    finally:
        steps_logger.removeFilter(steps)
        steps_logger.setLevel(saved)


def upgrade(url: str, revision: str = "head") -> list[str]:
    """Bring the database to the latest schema (creates a new SQLite file); the steps applied."""
    with _steps_noted() as steps:
        try:
            command.upgrade(alembic_config(url), revision)
        except Exception:
            if steps.applied:  # Alembic names a step before running it: the last one named failed
                log.error("database schema upgrade failed at %s", steps.applied[-1])
            raise
    if steps.applied:
        # WARNING, as the bot's other start-up lines: a schema change is what an operator looks for.
        log.warning("database schema upgraded: %s", "; ".join(steps.applied))
    return steps.applied


def revision(url: str, message: str) -> None:
    """Autogenerate a migration from the models (for developers)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
