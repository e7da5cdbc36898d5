"""Logs: readable lines on a terminal, JSON lines otherwise, the standard library's loggers
(uvicorn, Alembic) rendered the same way."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from tidings.config import LogFormat
from tidings.logs import configure_logging, logs_json


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restored() -> Iterator[None]:
    """Logging as it was before the test configured it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.NOTSET)
    structlog.reset_defaults()


def test_auto_is_human_on_a_terminal_and_json_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", Terminal())
    assert logs_json(LogFormat.AUTO) is False
    assert logs_json(LogFormat.JSON) is True
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert logs_json(LogFormat.AUTO) is True
    assert logs_json(LogFormat.HUMAN) is False


@pytest.mark.usefixtures("restored")
def test_json_lines_include_the_standard_librarys_loggers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert configure_logging(log_format=LogFormat.JSON) is True
    structlog.get_logger("tidings.test").info("bound", route="carrier-a")
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(e["event"], e["level"]) for e in events] == [
        ("bound", "info"),
        ("Invalid HTTP request received.", "warning"),
    ]
    assert events[0]["route"] == "carrier-a"
    assert events[1]["logger"] == "uvicorn.error"


@pytest.mark.usefixtures("restored")
def test_human_lines_are_not_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert configure_logging(log_format=LogFormat.HUMAN) is False
    structlog.get_logger("tidings.test").info("bound", route="carrier-a")
    [line] = capsys.readouterr().err.splitlines()
    assert "bound" in line and "route=carrier-a" in line
    with pytest.raises(ValueError):
        json.loads(line)
