"""Logging: text or JSON lines by a setting, chatty libraries held back, Alembic quiet at start."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logs import HANDLER_NAME, configure_logging
from bot.settings import Settings
from storage.migrate import upgrade


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Leave the root logger and the quieted libraries as the test found them."""
    root = logging.getLogger()
    saved = root.level, root.handlers[:], {n: logging.getLogger(n).level for n in ("httpx", "apscheduler.scheduler")}
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def test_json_logs_are_one_object_a_line(restored_logging: None, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_format="json", log_level="INFO"))
    log = logging.getLogger("xinfeng.test.logs")
    log.info("接单 #%s", 12, extra={"task_id": 12})
    try:
        raise ValueError("坏了")
    except ValueError:
        log.exception("handling failed")
    lines = capsys.readouterr().err.strip().splitlines()
    first, second = (json.loads(line) for line in lines[-2:])
    assert (first["level"], first["logger"], first["message"], first["task_id"]) == (
        "INFO", "xinfeng.test.logs", "接单 #12", 12)
    assert first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and "ValueError: 坏了" in second["exception"]


def test_text_logs_and_one_handler_however_often_configured(restored_logging: None,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_format="json"))
    configure_logging(Settings(log_format="text"))
    logging.getLogger("xinfeng.test.logs").warning("队伍 %s", "蓬莱")
    assert [h.get_name() for h in logging.getLogger().handlers].count(HANDLER_NAME) == 1
    assert capsys.readouterr().err.rstrip().endswith("WARNING xinfeng.test.logs: 队伍 蓬莱")


def test_request_logging_libraries_stay_at_warning(restored_logging: None) -> None:
    configure_logging(Settings(log_level="DEBUG"))
    # httpx logs every request's URL at INFO, and a Telegram URL carries the bot token.
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("apscheduler.scheduler").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("bot.service").getEffectiveLevel() == logging.DEBUG


def test_alembic_is_quiet_and_says_once_what_it_applied(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    caplog.set_level(logging.DEBUG)
    first = upgrade(url, "0002")
    records_first = [(r.name, r.levelname, r.getMessage()) for r in caplog.records
                     if r.name.startswith(("alembic", "storage.migrate"))]
    caplog.clear()
    again = upgrade(url, "0002")
    assert first == ["-> 0001, initial schema", "0001 -> 0002, projects and activities"]
    assert records_first == [("storage.migrate", "WARNING", "database schema upgraded: -> 0001, initial schema; "
                                                             "0001 -> 0002, projects and activities")]
    assert again == []
    assert not [r for r in caplog.records if r.name.startswith(("alembic", "storage.migrate"))]
