"""Gold planning runs a UNION keys SQL branch by branch and stops once the keys mean a rebuild."""

from __future__ import annotations

from datetime import date

import pytest
from pyspark.sql.types import DateType

from medallion.layers.gold_refresh import changed_keys

pytestmark = pytest.mark.spark

_DATES = "SELECT d FROM VALUES (DATE'2024-01-01'), (DATE'2024-01-02'), (DATE'2024-01-02') AS t(d)"
# A branch that fails whenever it runs: it shows whether planning went on to it.
_FAILS = "SELECT CAST(raise_error('the second branch ran') AS DATE) AS d"


def _over(limit: int):
    return lambda n: f"{n} keys" if n > limit else ""


def test_planning_stops_before_the_branches_after_the_keys_that_settle_a_rebuild(spark):
    keys, reason = changed_keys(spark, f"{_DATES}\nUNION\n{_FAILS}", DateType(), _over(1))

    assert reason == "2 keys"
    assert sorted(keys) == [date(2024, 1, 1), date(2024, 1, 2)]  # distinct keeps no order


def test_while_the_keys_are_few_every_branch_runs(spark):
    with pytest.raises(Exception, match="the second branch ran"):
        changed_keys(spark, f"{_DATES}\nUNION\n{_FAILS}", DateType(), _over(10))
    keys, reason = changed_keys(
        spark,
        f"{_DATES}\nUNION ALL\nSELECT '2024-01-03' AS `odd.name` UNION SELECT DATE'2024-01-01'",
        DateType(),
        _over(10),
    )
    assert reason == ""
    assert sorted(keys) == [
        date(2024, 1, 1),
        date(2024, 1, 2),
        date(2024, 1, 3),
    ]  # as the key's type, once each


def test_a_query_that_is_not_a_plain_union_runs_whole(spark):
    sql = f"WITH c AS ({_DATES}) SELECT d FROM c UNION SELECT DATE'2024-01-09'"
    keys, reason = changed_keys(spark, sql, DateType(), _over(2))
    assert reason == "3 keys"
    assert sorted(keys) == [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 9)]
