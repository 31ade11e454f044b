"""Alert thresholds against a run's per-rule failures (pure Python, no Spark)."""

from __future__ import annotations

import pytest

from medallion.errors import DataQualityError
from medallion.quality.alerts import evaluate, raise_for_failures, raise_for_notifications
from medallion.specs.model import QualityAlert


def test_pass_rate_and_failed_rows_thresholds_match_table_and_rule():
    alerts = (
        QualityAlert("*", "*", min_pass_rate=0.9, action="fail", row=2),
        QualityAlert("orders", "status_known", max_failed_rows=3, action="notify", row=3),
        QualityAlert("customers", "*", max_failed_rows=0, action="notify", row=4),
    )
    breaches = evaluate(alerts, "orders", 100, {"status_known": 5, "id_is_null": 11})
    got = sorted((b.rule, b.metric, b.alert.row) for b in breaches)
    assert got == [("id_is_null", "pass_rate", 2), ("status_known", "failed_rows", 3)]
    assert evaluate(alerts, "orders", 100, {"status_known": 3}) == []
    assert evaluate(alerts, "orders", 0, {"status_known": 3}) == []  # nothing checked, nothing to judge


def test_only_fail_alerts_stop_the_task_and_the_message_names_them():
    file = "specs/data_quality/dq_alerting.csv"  # the parsed alert carries its file
    alerts = (QualityAlert("*", "*", min_pass_rate=0.99, action="fail", file=file, row=2),)
    notify = (QualityAlert("*", "*", max_failed_rows=0, action="notify", file=file, row=3),)
    raise_for_failures(evaluate(notify, "t", 10, {"r": 5}))
    with pytest.raises(DataQualityError, match=r"t\.r: pass rate 50\.00% below 99\.00%.*dq_alerting\.csv:2"):
        raise_for_failures(evaluate(alerts, "t", 10, {"r": 5}))


def test_notifications_fail_only_when_there_are_any():
    raise_for_notifications([])
    with pytest.raises(DataQualityError, match="1 data-quality or freshness alert"):
        raise_for_notifications(["t.r: failed_rows 5 (threshold 0)"])
