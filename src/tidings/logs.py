"""Structured logging: readable lines on a terminal, JSON lines otherwise (or when asked).

Records of the standard library's loggers (uvicorn, asyncio, Alembic) are rendered the same
way, so a process that logs JSON writes nothing but JSON lines to standard error.
"""

from __future__ import annotations

import logging
import sys

import structlog

from tidings.config import LogFormat

# Marks the handler this module installs on the root logger, so that configuring again
# replaces it instead of adding a second one.
_HANDLER_NAME = "tidings"
# Libraries whose INFO lines say nothing an operator needs at every start (Alembic names its
# SQL dialect each time); their warnings still show.
_QUIET = ("alembic",)


class _CurrentStderr:
    """Standard error as it is when a line is written, not when logging was set up: loggers
    are cached on first use, and whoever owns the process (a test runner capturing output)
    may replace ``sys.stderr`` afterwards."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def logs_json(log_format: LogFormat) -> bool:
    """Whether ``log_format`` means JSON lines here: ``auto`` is JSON unless stderr is a
    terminal."""
    if log_format is LogFormat.AUTO:
        return not sys.stderr.isatty()
    return log_format is LogFormat.JSON


def configure_logging(*, level: str = "INFO", log_format: LogFormat = LogFormat.AUTO) -> bool:
    """Set up structlog and the standard library's root logger for a long-running process.

    Returns whether logs are JSON. Tracebacks are rendered as plain text: the development
    renderer's variable dumps can cost more than the work being logged when an error repeats.
    """
    json = logs_json(log_format)
    numeric_level = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    renderer: structlog.typing.Processor
    if json:
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            *([structlog.processors.format_exc_info] if json else []),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(_CurrentStderr())
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *([structlog.processors.format_exc_info] if json else []),
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for existing in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(numeric_level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(numeric_level, logging.WARNING))
    return json
