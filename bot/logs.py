"""Logging for every `xinfeng` command: one handler on standard error, text or JSON lines.

`XINFENG_LOG_FORMAT=json` writes one JSON object a line (time, level, logger, message, and
the traceback when there is one), for journald, Docker's log drivers or a collector; `text`
is for a terminal. Libraries that log each HTTP request at INFO are held at WARNING: their
lines repeat every few seconds, and a Telegram request's URL carries the bot token.
`LogCounter` counts the warnings and errors for `/metrics`.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from bot.settings import Settings

if TYPE_CHECKING:  # every command configures logging: it must not load the metrics machinery
    from bot.metrics import Metrics

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HANDLER_NAME = "xinfeng"
# Loggers that speak at INFO for every request or job run.
CHATTY = ("httpx", "httpcore", "apscheduler.executors", "apscheduler.scheduler")
# A record's own attributes; anything else on it came from `extra=` and is written too (but for
# uvicorn's copy of each message with terminal colours in it).
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName",
                                                                          "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, exception, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            doc["stack"] = self.formatStack(record.stack_info)
        doc.update({k: v for k, v in vars(record).items() if k not in _STANDARD and k not in doc})
        return json.dumps(doc, ensure_ascii=False, default=str)


def configure_logging(settings: Settings) -> None:
    """Send every record at or above the configured level to standard error, in the configured format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for old in root.handlers[:]:
        if old.get_name() == HANDLER_NAME:  # ours from an earlier call; others' (a test's capture) stay
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


class LogCounter(logging.Handler):
    """Counts the warnings and errors logged, by level and logger (add it to the root logger)."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(logging.WARNING)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        """Count one record."""
        self.metrics.logged.labels(record.levelname, record.name).inc()
