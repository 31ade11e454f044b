"""The package's log lines: plain text for people, or one JSON object per line (run id, task, table)
so cluster logs can be searched, e.g. for every line of one run or one table.

Nothing here runs on import: notebooks call `configure()` (from `_bootstrap`), the CLI calls it when
`--log-format json` or MEDALLION_LOG_FORMAT=json asks for JSON. Only the `medallion` logger gets a
handler; the root logger is left to the host (Databricks, pytest, the CLI).

The context (run id, task, table) lives in a context variable, so tasks running side by side (a
for-each task's iterations in threads) each keep their own; a stream's micro-batch callbacks, which
run on Spark's callback thread, are run in the context of the code that started the stream
(`medallion.delta.streams`).
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from types import MappingProxyType
from typing import TextIO

from medallion.environment import on_databricks

__all__ = ["CONTEXT_FIELDS", "JsonLines", "configure", "for_table", "log_context", "set_log_context"]

CONTEXT_FIELDS = ("run_id", "task", "table")
# Never changed in place: set_log_context sets a new mapping.
_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "medallion_log_context", default=MappingProxyType({})
)
_HANDLER_NAME = "medallion"


def set_log_context(**fields: str | None) -> None:
    """Set (or, with an empty value, clear) fields of the context every log line carries."""
    context = dict(_context.get())
    for key, value in fields.items():
        if value:
            context[key] = str(value)
        else:
            context.pop(key, None)
    _context.set(context)


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """The context fields set for the block, then restored."""
    saved = _context.get()
    set_log_context(**fields)
    try:
        yield
    finally:
        _context.set(saved)


def for_table[F: Callable](layer: str) -> Callable[[F], F]:
    """Decorate `f(spark, spec, ...)`: its log lines carry `table` = `layer.<spec.table>`."""

    def decorate(function: F) -> F:
        @wraps(function)
        def run(spark, spec, *args, **kwargs):
            name = spec.table if "." in spec.table else f"{layer}.{spec.table}"
            with log_context(table=name):
                return function(spark, spec, *args, **kwargs)

        return run  # type: ignore[return-value]

    return decorate


class _WithContext(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key in CONTEXT_FIELDS:
            if not hasattr(record, key):
                setattr(record, key, _context.get().get(key, ""))
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record: ts (UTC), level, logger, message, run_id, task, table, error."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({key: getattr(record, key, "") or _context.get().get(key, "") for key in CONTEXT_FIELDS})
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(
    json_lines: bool | None = None, stream: TextIO | None = None, level: int = logging.INFO
) -> None:
    """Show the package's log lines on `stream` (stdout): JSON lines when `json_lines` (default: when
    MEDALLION_LOG_FORMAT=json, or on Databricks), else text. Calling it again replaces the handler;
    with text lines and a root handler already there (the CLI's), nothing is added."""
    if json_lines is None:
        json_lines = os.environ.get("MEDALLION_LOG_FORMAT", "").lower() == "json" or on_databricks()
    logger = logging.getLogger("medallion")
    logger.setLevel(level)
    for handler in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(handler)
    logger.propagate = True
    if not json_lines and logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(_WithContext())
    if json_lines:
        handler.setFormatter(JsonLines())
        logger.propagate = False  # one line per record, not a second text copy from the root handler
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
