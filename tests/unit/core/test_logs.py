"""Log lines: JSON objects with run id, task and table for cluster logs; nothing touches the root logger."""

from __future__ import annotations

import io
import json
import logging
from types import SimpleNamespace

import pytest

from medallion.logs import configure, for_table, log_context, set_log_context


@pytest.fixture
def json_lines():
    stream = io.StringIO()
    root_handlers = list(logging.getLogger().handlers)
    configure(json_lines=True, stream=stream)
    yield stream
    configure(json_lines=False, stream=io.StringIO())  # back to text (pytest's root handler stays)
    set_log_context(run_id="", task="", table="")
    assert logging.getLogger().handlers == root_handlers


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_line_carries_the_run_task_and_table_it_belongs_to(json_lines):
    log = logging.getLogger("medallion.layers.silver")

    @for_table("silver")
    def build(spark, spec):
        log.info("built %s", spec.table)

    set_log_context(run_id="run-7", task="silver")
    build(None, SimpleNamespace(table="dim_customer"))
    with log_context(table="gold.daily_sales"):
        log.warning("late")
    log.info("done")
    lines = _lines(json_lines)
    assert [(x["message"], x["run_id"], x["task"], x["table"]) for x in lines] == [
        ("built dim_customer", "run-7", "silver", "silver.dim_customer"),
        ("late", "run-7", "silver", "gold.daily_sales"),
        ("done", "run-7", "silver", ""),
    ]
    assert lines[1]["level"] == "WARNING" and lines[0]["logger"] == "medallion.layers.silver"
    assert lines[0]["ts"].endswith("+00:00")


def test_an_exception_is_one_line_with_its_traceback(json_lines):
    try:
        raise ValueError("bad row")
    except ValueError:
        logging.getLogger("medallion").exception("failed")
    (line,) = _lines(json_lines)
    assert "ValueError: bad row" in line["error"] and line["message"] == "failed"


def test_configuring_twice_keeps_one_handler(json_lines):
    configure(json_lines=True, stream=json_lines)
    logging.getLogger("medallion").info("once")
    assert [x["message"] for x in _lines(json_lines)] == ["once"]
