"""`medallion requeue` and `medallion dq report` wiring: arguments reach the package, results print.

The Spark side of both is tested in tests/integration/test_quality_end_to_end.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from medallion import cli
from medallion.cli import lakehouse
from medallion.delta.run_records import TableRun

PROJECT = Path(__file__).resolve().parents[3]


@pytest.fixture
def no_spark(monkeypatch):
    from medallion.params import resolve_context

    context = resolve_context({"target": "dev"}, PROJECT)
    monkeypatch.setattr(lakehouse, "spark_and_context", lambda args: ("spark", context))
    return context


def test_requeue_replays_the_named_table_and_reports_what_moved(no_spark, monkeypatch, capsys):
    calls = []

    def fake_requeue(spark, table, ctx, *, alerts):
        calls.append((spark, table.table, ctx))
        assert alerts and all(
            a.file.endswith("dq_alerting.csv") for a in alerts
        )  # thresholds apply to replays
        return TableRun("silver", table.table, rows_read=5, rows_written=3, details={"quarantined": 2})

    monkeypatch.setattr("medallion.layers.requeue.requeue", fake_requeue)
    assert cli.main(["--project-dir", str(PROJECT), "requeue", "fact_order_line"]) == 0
    assert calls == [("spark", "fact_order_line", no_spark)]
    out = capsys.readouterr().out
    assert "replayed 5 quarantined rows: 3 reached silver, 2 failed again" in out


def test_requeue_of_an_unknown_table_is_a_clear_error(no_spark, capsys):
    assert cli.main(["--project-dir", str(PROJECT), "requeue", "fact_nothing"]) == 2
    assert "no silver table named 'fact_nothing'" in capsys.readouterr().err


def test_dq_report_passes_run_and_top(no_spark, monkeypatch, capsys):
    seen = {}

    def fake_report(spark, ctx, *, run_id, top):
        seen.update(run_id=run_id, top=top)
        return "REPORT"

    monkeypatch.setattr("medallion.quality.report.dq_report", fake_report)
    assert cli.main(["--project-dir", str(PROJECT), "dq", "report", "--run", "42", "--top", "3"]) == 0
    assert seen == {"run_id": "42", "top": 3} and capsys.readouterr().out.strip() == "REPORT"
