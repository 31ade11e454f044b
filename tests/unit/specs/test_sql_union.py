"""A keys SQL split at its top-level UNIONs, so gold planning can run it branch by branch."""

from __future__ import annotations

from pathlib import Path

import pytest

from medallion.specs.sql_union import union_branches

SPECS = Path(__file__).resolve().parents[3] / "specs" / "gold"


def test_the_demo_keys_sql_splits_into_its_selects_in_order():
    branches = union_branches((SPECS / "daily_sales.keys.sql").read_text(encoding="utf-8"))
    assert len(branches) == 4
    assert branches[0].endswith("SELECT order_date FROM ${changes}.fact_order")
    assert branches[1].startswith("SELECT o.order_date\nFROM ${changes}.fact_order_line AS l")
    assert all("UNION" not in branch.upper() for branch in branches)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT a FROM t UNION ALL SELECT b FROM u", ["SELECT a FROM t", "SELECT b FROM u"]),
        (
            "select a from t union distinct select b from u union select c",
            ["select a from t", "select b from u", "select c"],
        ),
        # UNION inside a string, a comment, a subquery or a backquoted name is not a branch boundary
        (
            "SELECT 'x UNION y' AS k -- UNION\nUNION SELECT `union` FROM t",
            ["SELECT 'x UNION y' AS k -- UNION", "SELECT `union` FROM t"],
        ),
        (
            "SELECT k FROM (SELECT 1 AS k UNION SELECT 2) AS s UNION SELECT 3",
            ["SELECT k FROM (SELECT 1 AS k UNION SELECT 2) AS s", "SELECT 3"],
        ),
    ],
)
def test_a_plain_union_splits_at_its_top_level(sql, expected):
    assert union_branches(sql) == expected


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT a FROM t",  # one SELECT
        "SELECT k FROM (SELECT 1 AS k UNION SELECT 2) AS s",  # the union is inside
        "WITH c AS (SELECT 1 AS k) SELECT k FROM c UNION SELECT 2",  # a CTE the branches share
        "SELECT 1 UNION SELECT 2 ORDER BY 1",  # ORDER BY of the whole union
        "SELECT 1 UNION SELECT 2 LIMIT 1",
        "SELECT 1 UNION SELECT 2 EXCEPT SELECT 2",  # another set operator
        "SELECT 1 UNION (SELECT 2)",  # a parenthesized branch
        "SELECT 1 UNION",  # an empty branch
        "SELECT 'open UNION SELECT 2",  # an unclosed quote
    ],
)
def test_anything_but_a_plain_union_is_run_whole(sql):
    assert union_branches(sql) is None
